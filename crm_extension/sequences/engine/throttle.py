"""Per-user sending limits for sequence emails: at most ``per_24h`` in any 24 hours and at least
``min_gap_seconds`` between two of a user's emails, however many enrollments fall due at once.

Send times are placed after the user's latest known send (already-queued future sends included), so a
schedule made by one dispatcher run is never re-ordered by the next. Given the sends so far, the earliest
time that keeps every sliding 24 h window under the cap has a closed form (``next_free_time``); placing emails
one after another with it keeps the limits exactly. Pass all times in one clock (the site's naive time).
"""

from bisect import bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)
DEFAULT_PER_24H = 200
DEFAULT_MIN_GAP_SECONDS = 30

__all__ = ["DEFAULT_LIMITS", "Limits", "assign_send_times", "next_free_time"]


@dataclass(frozen=True)
class Limits:
	"""A cap below 1 (an empty setting) means the default cap, never "unlimited"; a negative gap means none."""

	per_24h: int = DEFAULT_PER_24H
	min_gap_seconds: int = DEFAULT_MIN_GAP_SECONDS

	def __post_init__(self):
		if not self.per_24h or self.per_24h < 1:
			object.__setattr__(self, "per_24h", DEFAULT_PER_24H)
		if not self.min_gap_seconds or self.min_gap_seconds < 0:
			object.__setattr__(self, "min_gap_seconds", 0)

	@property
	def min_gap(self) -> timedelta:
		return timedelta(seconds=self.min_gap_seconds)


DEFAULT_LIMITS = Limits()


def next_free_time(
	now: datetime, recent_sends: Iterable[datetime], limits: Limits = DEFAULT_LIMITS
) -> datetime:
	"""When the user's next sequence email fits: not before ``now``, ``min_gap`` after the latest send, and
	when fewer than ``per_24h`` sends lie in the 24 hours before it (the window (t - 24 h, t])."""
	return _next_free(now, sorted(recent_sends), limits)


def assign_send_times(
	now: datetime,
	recent_sends: list[datetime],
	due: int,
	limits: Limits = DEFAULT_LIMITS,
	not_after: datetime | None = None,
) -> list[datetime | None]:
	"""A send time for each of ``due`` emails of one user, in order; None for those that would not fit before
	``not_after`` (default: 24 h from ``now``, so None means the 24 h cap is hit). Once one email does not
	fit, none after it does: the waiting ones keep their order. ``next_free_time`` with the assigned times
	added tells them when to try again."""
	limit = now + WINDOW if not_after is None else not_after
	sends = sorted(recent_sends)
	times: list[datetime | None] = []
	for _ in range(max(due, 0)):
		at = _next_free(now, sends, limits)
		if at >= limit:
			break
		times.append(at)
		insort(sends, at)
	return times + [None] * (max(due, 0) - len(times))


def _next_free(now: datetime, sends: list[datetime], limits: Limits) -> datetime:
	"""``sends`` sorted. After the latest send every earlier one is in the past, so the only window to
	check is the one ending at the candidate; if it is full, wait until its oldest counted send leaves it."""
	at = max(now, sends[-1] + limits.min_gap) if sends else now
	in_window = len(sends) - bisect_right(sends, at - WINDOW)
	if in_window < limits.per_24h:
		return at
	return max(at, sends[len(sends) - limits.per_24h] + WINDOW)
