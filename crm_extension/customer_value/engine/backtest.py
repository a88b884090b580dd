"""Hold-out check of the BG/NBD model: fit on a calibration period, predict the next one, compare.

Customers enter when their first purchase is on or before ``calibration_end``. Actual hold-out purchases
are distinct purchase days in ``(calibration_end, holdout_end]``, the same unit the model predicts.
Deciles rank customers by predicted purchases, highest first (decile 1), ties broken by the customer key
as text; they are as equal in size as possible (fewer than ten customers give fewer deciles).
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from crm_extension.customer_value.engine.bgnbd import (
	BgNbdFit,
	conditional_expected_purchases,
	fit_bgnbd,
	purchase_summary,
)
from crm_extension.customer_value.engine.dates import as_date, weeks_between

DECILES = 10


@dataclass(frozen=True)
class DecileRow:
	decile: int
	customers: int
	predicted: float
	actual: int


@dataclass(frozen=True)
class BacktestResult:
	fit: BgNbdFit
	customers: int
	holdout_weeks: float
	predicted_total: float
	actual_total: int
	deciles: list[DecileRow]


def backtest_purchases(
	purchase_dates_by_customer: Mapping[Hashable, Iterable[date]], calibration_end: date, holdout_end: date
) -> BacktestResult:
	calibration_end, holdout_end = as_date(calibration_end), as_date(holdout_end)
	keys, summaries, actual = [], [], []
	for key, dates in purchase_dates_by_customer.items():
		days = {as_date(day) for day in dates}
		summary = purchase_summary(days, calibration_end)
		if summary is not None:
			keys.append(key)
			summaries.append(summary)
			actual.append(sum(calibration_end < day <= holdout_end for day in days))
	x, t_x, T = np.array(summaries, dtype=float).reshape(-1, 3).T
	fit = fit_bgnbd(x, t_x, T)
	holdout_weeks = weeks_between(calibration_end, holdout_end)
	predicted = conditional_expected_purchases(fit.params, holdout_weeks, x, t_x, T)
	return BacktestResult(
		fit=fit,
		customers=len(keys),
		holdout_weeks=holdout_weeks,
		predicted_total=float(predicted.sum()),
		actual_total=int(sum(actual)),
		deciles=decile_rows(keys, predicted, np.array(actual)),
	)


def decile_rows(keys: list[Hashable], predicted: np.ndarray, actual: np.ndarray) -> list[DecileRow]:
	order = sorted(range(len(keys)), key=lambda i: (-predicted[i], str(keys[i])))
	groups = [group for group in np.array_split(np.array(order, dtype=int), DECILES) if group.size]
	return [
		DecileRow(
			decile=number,
			customers=int(group.size),
			predicted=float(predicted[group].sum()),
			actual=int(actual[group].sum()),
		)
		for number, group in enumerate(groups, start=1)
	]
