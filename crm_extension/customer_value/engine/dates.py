"""Date helpers shared by the customer-value engine (no clock reads: every "now" is an argument)."""

from datetime import date, datetime

DAYS_PER_WEEK = 7.0
WEEKS_PER_YEAR = 365.25 / DAYS_PER_WEEK
WEEKS_PER_MONTH = WEEKS_PER_YEAR / 12


def as_date(value: date | datetime | str) -> date:
	"""Normalise a date, datetime or ISO string (as ERPNext may return) to a ``date``."""
	if isinstance(value, datetime):
		return value.date()
	if isinstance(value, date):
		return value
	return date.fromisoformat(str(value)[:10])


def weeks_between(start: date, end: date) -> float:
	return (end - start).days / DAYS_PER_WEEK
