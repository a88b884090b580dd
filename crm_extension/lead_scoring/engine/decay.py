"""Exponential decay of points with the age of what earned them."""

from datetime import datetime

SECONDS_PER_DAY = 86400


def age_in_days(at: datetime, as_of: datetime) -> float:
	return (as_of - at).total_seconds() / SECONDS_PER_DAY


def decay_factor(age_days: float, half_life_days: float | None) -> float:
	"""``0.5 ** (age / half_life)``: 1 at age 0, 0.5 at one half-life; 1 when there is no half-life."""
	if half_life_days is None:
		return 1.0
	return 0.5 ** (max(age_days, 0.0) / half_life_days)
