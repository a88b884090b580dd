"""RFM (recency, frequency, monetary) values, quintile scores and named segments.

Raw values per customer, measured at ``as_of`` (transactions dated after ``as_of`` are ignored):

- ``recency_days``: days from the last purchase (any time up to ``as_of``) to ``as_of``;
  ``None`` when the customer never purchased.
- ``frequency``: distinct purchase days inside the window ``(as_of - window_days, as_of]``;
  several invoices on one day count once.
- ``monetary``: net amount inside the window. Returns (negative amounts) subtract, so it can be
  negative; the raw value is kept, only its score is clamped.

A transaction with a negative amount is a return; any other one (zero-value included) is a purchase.

Scores 1-5 are quintiles across the customers that purchased in the window, from mid-rank percentiles
(``scipy.stats.rankdata(method="average")``, percentile = (rank - 0.5) / n): equal values always get equal
scores, and a population of one customer or of identical values scores 3. Recency scores in reverse
(most recent = 5). A monetary value <= 0 always scores M = 1. Customers without a purchase in the window
score R = 1, F = 1, M = 1, whatever the rest of the population looks like.

Segments map R against FM = round-half-up((F + M) / 2); the 25 cells are covered exactly once:

	| segment            | R     | FM    |
	| ------------------ | ----- | ----- |
	| Champions          | 5     | 4-5   |
	| Loyal              | 3-4   | 4-5   |
	| Potential Loyalist | 4-5   | 2-3   |
	| New                | 5     | 1     |
	| Promising          | 4     | 1     |
	| Need Attention     | 3     | 3     |
	| About to Sleep     | 3     | 1-2   |
	| At Risk            | 1-2   | 3-4   |
	| Can't Lose Them    | 1-2   | 5     |
	| Hibernating        | 1-2   | 1-2   | (except R 1 with FM 1)
	| Lost               | 1     | 1     |
"""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import numpy as np
from scipy.stats import rankdata

from crm_extension.customer_value.engine.dates import as_date
from crm_extension.i18n import N_

K = TypeVar("K", bound=Hashable)

CHAMPIONS = N_("Champions")
LOYAL = N_("Loyal")
POTENTIAL_LOYALIST = N_("Potential Loyalist")
NEW = N_("New")
PROMISING = N_("Promising")
NEED_ATTENTION = N_("Need Attention")
ABOUT_TO_SLEEP = N_("About to Sleep")
AT_RISK = N_("At Risk")
CANT_LOSE_THEM = N_("Can't Lose Them")
HIBERNATING = N_("Hibernating")
LOST = N_("Lost")

# Rows are FM 5 down to 1, columns R 1 to 5 (same layout as the module docstring).
_SEGMENT_GRID = (
	(CANT_LOSE_THEM, CANT_LOSE_THEM, LOYAL, LOYAL, CHAMPIONS),
	(AT_RISK, AT_RISK, LOYAL, LOYAL, CHAMPIONS),
	(AT_RISK, AT_RISK, NEED_ATTENTION, POTENTIAL_LOYALIST, POTENTIAL_LOYALIST),
	(HIBERNATING, HIBERNATING, ABOUT_TO_SLEEP, POTENTIAL_LOYALIST, POTENTIAL_LOYALIST),
	(LOST, HIBERNATING, ABOUT_TO_SLEEP, PROMISING, NEW),
)
SEGMENTS = (
	CHAMPIONS,
	LOYAL,
	POTENTIAL_LOYALIST,
	NEW,
	PROMISING,
	NEED_ATTENTION,
	ABOUT_TO_SLEEP,
	AT_RISK,
	CANT_LOSE_THEM,
	HIBERNATING,
	LOST,
)


@dataclass(frozen=True)
class RfmValues:
	recency_days: int | None
	frequency: int
	monetary: float


@dataclass(frozen=True)
class RfmScore:
	recency_days: int | None
	frequency: int
	monetary: float
	r_score: int
	f_score: int
	m_score: int
	segment: str


def rfm_values(transactions: Iterable[Sequence[Any]], as_of: date, window_days: int = 365) -> RfmValues:
	"""Raw RFM of one customer. Each transaction is ``(date, amount, ...)``: extra fields are ignored,
	so ``InvoiceFact`` rows can be passed as they are."""
	as_of = as_date(as_of)
	window_start = as_of - timedelta(days=window_days)
	last_purchase = None
	purchase_days = set()
	monetary = 0.0
	for row in transactions:
		day, amount = as_date(row[0]), float(row[1])
		if day > as_of:
			continue
		is_purchase = amount >= 0
		if is_purchase and (last_purchase is None or day > last_purchase):
			last_purchase = day
		if day > window_start:
			monetary += amount
			if is_purchase:
				purchase_days.add(day)
	recency = None if last_purchase is None else (as_of - last_purchase).days
	return RfmValues(recency_days=recency, frequency=len(purchase_days), monetary=monetary)


def quintile_scores(values: Sequence[float] | np.ndarray) -> np.ndarray:
	"""Scores 1-5 (higher value, higher score) from mid-rank percentiles; ties share a score."""
	values = np.asarray(values, dtype=float)
	if values.size == 0:
		return np.zeros(0, dtype=int)
	percentiles = (rankdata(values, method="average") - 0.5) / values.size
	return np.clip(1 + np.floor(5 * percentiles), 1, 5).astype(int)


def rfm_segment(r_score: int, f_score: int, m_score: int) -> str:
	fm_score = (f_score + m_score + 1) // 2
	return _SEGMENT_GRID[5 - fm_score][r_score - 1]


def score_rfm(values_by_customer: Mapping[K, RfmValues]) -> dict[K, RfmScore]:
	"""Quintile scores and segments across the population given (one call scores everyone together)."""
	active = {key: values for key, values in values_by_customer.items() if values.frequency > 0}
	r_scores = quintile_scores([-values.recency_days for values in active.values()])
	f_scores = quintile_scores([values.frequency for values in active.values()])
	m_scores = quintile_scores([values.monetary for values in active.values()])
	scores = dict(zip(active, zip(r_scores, f_scores, m_scores, strict=True), strict=True))
	return {key: _scored(values, *scores.get(key, (1, 1, 1))) for key, values in values_by_customer.items()}


def compute_rfm(
	transactions_by_customer: Mapping[K, Iterable[Sequence[Any]]], as_of: date, window_days: int = 365
) -> dict[K, RfmScore]:
	values = {key: rfm_values(rows, as_of, window_days) for key, rows in transactions_by_customer.items()}
	return score_rfm(values)


def _scored(values: RfmValues, r_score: int, f_score: int, m_score: int) -> RfmScore:
	r_score, f_score = int(r_score), int(f_score)
	m_score = int(m_score) if values.monetary > 0 else 1
	return RfmScore(
		recency_days=values.recency_days,
		frequency=values.frequency,
		monetary=values.monetary,
		r_score=r_score,
		f_score=f_score,
		m_score=m_score,
		segment=rfm_segment(r_score, f_score, m_score),
	)
