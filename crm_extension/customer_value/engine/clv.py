"""Customer lifetime value in MARGIN terms.

Model CLV: for each discount period k = 1..n of the horizon,
``E[M] · (E[Y(t_k)] - E[Y(t_(k-1))]) / (1 + d)^k`` summed over k, where E[M] is the Gamma-Gamma expected
margin per purchase (fitted on average MARGIN per repeat purchase, not revenue), E[Y(t)] the BG/NBD
expected purchases in the next t weeks and d the period rate equivalent to the annual discount rate.
Cash flows are discounted at the end of their period. Weekly periods round the horizon to whole weeks.

Fallback CLV (too little data to fit a model): ``margin per month over the RFM window × horizon months ×
retention``, with retention = max(0, 1 - recency_days / window_days): a customer who bought today
keeps their historical run-rate, one silent for a whole window is worth nothing.
"""

from collections.abc import Iterable
from typing import Literal

import numpy as np

from crm_extension.customer_value.engine.bgnbd import BgNbdParams, conditional_expected_purchases
from crm_extension.customer_value.engine.dates import WEEKS_PER_MONTH, WEEKS_PER_YEAR

ArrayLike = float | np.ndarray | Iterable[float]
DiscountPeriod = Literal["month", "week"]
DAYS_PER_MONTH = 365.25 / 12


def period_discount_rate(annual_rate: float, periods_per_year: float) -> float:
	"""Per-period rate compounding to ``annual_rate`` over a year."""
	return (1 + annual_rate) ** (1 / periods_per_year) - 1


def discount_schedule(horizon_months: float, period: DiscountPeriod = "month") -> tuple[int, float, float]:
	"""``(number of periods, period length in weeks, periods per year)`` for a horizon."""
	if period == "month":
		return round(horizon_months), WEEKS_PER_MONTH, 12.0
	if period == "week":
		return round(horizon_months * WEEKS_PER_MONTH), 1.0, WEEKS_PER_YEAR
	raise ValueError(f"Unknown discount period: {period!r}")


def discounted_clv(
	params: BgNbdParams,
	x: ArrayLike,
	t_x: ArrayLike,
	T: ArrayLike,
	margin_per_purchase: ArrayLike,
	horizon_months: float = 12,
	annual_discount_rate: float = 0.1,
	period: DiscountPeriod = "month",
) -> np.ndarray:
	"""Discounted expected margin over the horizon, one value per customer."""
	x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
	periods, period_weeks, periods_per_year = discount_schedule(horizon_months, period)
	rate = period_discount_rate(annual_discount_rate, periods_per_year)
	discounted_purchases = np.zeros(np.broadcast(x, t_x, T).shape)
	previous = np.zeros_like(discounted_purchases)
	# One period at a time keeps memory at O(customers) whatever the horizon.
	for k in range(1, periods + 1):
		cumulative = conditional_expected_purchases(params, k * period_weeks, x, t_x, T)
		discounted_purchases += (cumulative - previous) / (1 + rate) ** k
		previous = cumulative
	return np.asarray(margin_per_purchase, dtype=float) * discounted_purchases


def retention_proxy(recency_days: ArrayLike, window_days: int) -> np.ndarray:
	"""1 for a purchase today, falling linearly to 0 after a whole window of silence (or never bought)."""
	recency = np.asarray(recency_days, dtype=float)
	recency = np.where(np.isnan(recency), window_days, recency)
	return np.clip(1 - recency / window_days, 0.0, 1.0)


def fallback_clv(
	window_margin: ArrayLike, recency_days: ArrayLike, window_days: int = 365, horizon_months: float = 12
) -> np.ndarray:
	"""Undiscounted run-rate estimate used when no model could be fitted (see module docstring)."""
	margin_per_month = np.asarray(window_margin, dtype=float) / (window_days / DAYS_PER_MONTH)
	return margin_per_month * horizon_months * retention_proxy(recency_days, window_days)
