"""Which snapshot dates a retention policy drops: every date in the last ``daily_days`` days is kept, and
of older dates only the last one of each calendar month (the month-ends the Customer Tier Movement report
compares and a customer's tier history draws)."""

from collections.abc import Iterable
from datetime import date, timedelta


def dates_to_drop(dates: Iterable[date], today: date, daily_days: int) -> list[date]:
	"""The dates older than ``daily_days`` days before ``today`` that are not the latest of their month;
	``daily_days`` of 0 or less keeps every date."""
	if daily_days <= 0:
		return []
	cutoff = today - timedelta(days=daily_days)
	old = sorted({day for day in dates if day < cutoff})
	month_ends: dict[tuple[int, int], date] = {}
	for day in old:
		month_ends[(day.year, day.month)] = day  # sorted: the last one of the month wins
	kept = set(month_ends.values())
	return [day for day in old if day not in kept]
