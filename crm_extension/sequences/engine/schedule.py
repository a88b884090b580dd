"""When a step is due: business days from the previous step, then the first moment inside the sending window
on a working day in the party's time zone.

Naive datetimes are the site's wall-clock time (``system_tz``), as Frappe stores them; aware datetimes are
taken as they are. Holidays come from the company's Holiday List, which already lists its weekly offs;
``weekly_off`` (``date.weekday()`` numbers, Monday = 0) is for a company without one. Every instant is
compared in UTC so a daylight-saving change never moves a step outside the window or makes it run twice.
"""

from collections.abc import Collection
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Nothing schedules further out than this; a calendar with no working day in it is a configuration error.
MAX_SEARCH_DAYS = 3660

UTC = timezone.utc

__all__ = ["add_business_days", "due_at", "is_working_day", "next_slot", "window_close", "zone"]


def is_working_day(day: date, holidays: Collection[date], weekly_off: Collection[int] = frozenset()) -> bool:
	return day not in holidays and day.weekday() not in weekly_off


def add_business_days(
	start: datetime,
	days: int,
	holidays: frozenset[date],
	weekly_off: frozenset[int] = frozenset(),
) -> datetime:
	"""``start`` moved ``days`` working days later at the same wall-clock time (0 days = the same moment).

	Days are counted after ``start``'s date, so one business day after a Friday (or after a holiday) is the
	next working day. The time of day is kept: the sending window decides the hour afterwards.
	"""
	if days < 0:
		raise ValueError("A step's delay cannot be negative")
	day, counted = start.date(), 0
	for _ in range(MAX_SEARCH_DAYS):
		if counted == days:
			return start + timedelta(days=(day - start.date()).days)
		day += timedelta(days=1)
		counted += is_working_day(day, holidays, weekly_off)
	raise ValueError(f"No {days} working days within {MAX_SEARCH_DAYS} days: check the Holiday List")


def next_slot(
	earliest: datetime,
	holidays: frozenset[date],
	window_start: time,
	window_end: time,
	tz: str | None,
	system_tz: str,
	weekly_off: frozenset[int] = frozenset(),
) -> datetime:
	"""The earliest moment >= ``earliest`` on a working day inside [window_start, window_end) of the party's
	time zone ``tz`` (the site's when unknown or invalid), as a naive datetime of ``system_tz``.

	Working days are the party's local dates. On a daylight-saving day a window edge that does not exist
	(02:30 when clocks jump from 02:00 to 03:00) starts at the first real moment after it, and one that
	exists twice is its first occurrence.
	"""
	if window_start >= window_end:
		raise ValueError("The sending window must start before it ends")
	site = zone(system_tz, UTC)
	party = zone(tz, site)
	moment = _as_utc(earliest, site)
	day = moment.astimezone(party).date()
	for _ in range(MAX_SEARCH_DAYS):
		if is_working_day(day, holidays, weekly_off):
			opens, closes = _first_instant(day, window_start, party), _first_instant(day, window_end, party)
			if moment < closes:
				return max(moment, opens).astimezone(site).replace(tzinfo=None)
		day += timedelta(days=1)
	raise ValueError(f"No working day within {MAX_SEARCH_DAYS} days: check the Holiday List")


def window_close(
	moment: datetime,
	holidays: frozenset[date],
	window_start: time,
	window_end: time,
	tz: str | None,
	system_tz: str,
	weekly_off: frozenset[int] = frozenset(),
) -> datetime | None:
	"""When the sending window that contains ``moment`` closes (naive, ``system_tz``); None when ``moment`` is
	outside every window. Pass it as ``not_after`` to ``assign_send_times`` so that emails spread out by the
	per-user gap are not sent after hours."""
	site = zone(system_tz, UTC)
	party = zone(tz, site)
	instant = _as_utc(moment, site)
	day = instant.astimezone(party).date()
	if not is_working_day(day, holidays, weekly_off):
		return None
	opens, closes = _first_instant(day, window_start, party), _first_instant(day, window_end, party)
	return closes.astimezone(site).replace(tzinfo=None) if opens <= instant < closes else None


def due_at(
	previous_done_at: datetime,
	delay_days: int,
	holidays: frozenset[date],
	window_start: time,
	window_end: time,
	tz: str | None,
	system_tz: str,
	weekly_off: frozenset[int] = frozenset(),
) -> datetime:
	"""When the next step runs: ``delay_days`` business days after the previous one, counted on the party's
	calendar (a step done late on Friday evening in New York is Friday there, whatever the site's date),
	then moved into the sending window. Naive result in ``system_tz``."""
	site = zone(system_tz, UTC)
	party = zone(tz, site)
	local = _as_utc(previous_done_at, site).astimezone(party)
	later = add_business_days(local, delay_days, holidays, weekly_off)
	return next_slot(later, holidays, window_start, window_end, tz, system_tz, weekly_off)


def zone(name: str | None, fallback: tzinfo) -> tzinfo:
	"""The named IANA zone, or ``fallback`` when the name is empty or unknown (a party's free-text time zone
	must not stop its sequence)."""
	if not name:
		return fallback
	try:
		return ZoneInfo(str(name).strip())
	except (ZoneInfoNotFoundError, ValueError, OSError):
		return fallback


def _as_utc(moment: datetime, site: tzinfo) -> datetime:
	if moment.tzinfo is None:
		moment = moment.replace(tzinfo=site)
	return moment.astimezone(UTC)


def _first_instant(day: date, wall: time, party: tzinfo) -> datetime:
	"""The first instant (UTC) whose wall-clock time in ``party`` on ``day`` is at or after ``wall``."""
	naive = datetime.combine(day, wall)
	first = naive.replace(tzinfo=party, fold=0).astimezone(UTC)
	if first.astimezone(party).replace(tzinfo=None) == naive:
		return first
	# ``wall`` falls in a gap: the answer lies between its two readings; bisect to the second.
	second = naive.replace(tzinfo=party, fold=1).astimezone(UTC)
	low, high = sorted((int(first.timestamp()), int(second.timestamp())))
	while high - low > 1:
		middle = (low + high) // 2
		if datetime.fromtimestamp(middle, party).replace(tzinfo=None) >= naive:
			high = middle
		else:
			low = middle
	return datetime.fromtimestamp(high, UTC)
