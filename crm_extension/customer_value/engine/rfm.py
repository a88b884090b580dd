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
scores, and a population of one customer or of identical values scores 3.

A score only grows with the value, so a population is summed up by four cut values (``RfmCuts``): the
score is 1 + the number of cuts the value reaches. ``quintile_cuts`` finds them from any sorted column
(``SortedColumn``: in memory, or a database table the adapter queries), so customers can be scored a chunk
at a time against a population that is never held in memory. Recency scores in reverse
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

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, TypeVar

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


class SortedColumn(Protocol):
	"""One population's values in ascending order (only what ``quintile_cuts`` asks of it)."""

	def size(self) -> int: ...

	def value_at(self, position: int) -> float:
		"""The value at a 0-based position of the ascending order."""

	def count_below_and_equal(self, value: float) -> tuple[int, int]:
		"""How many values are smaller than ``value``, and how many equal it."""

	def next_above(self, value: float) -> float | None:
		"""The smallest value greater than ``value``; None when there is none."""


@dataclass(frozen=True)
class RfmCuts:
	"""Per dimension, the smallest population value reaching each score 2..5 (``inf``: not reached).
	Recency cuts are on ``-recency_days``, so that more recent is higher."""

	recency: tuple[float, ...]
	frequency: tuple[float, ...]
	monetary: tuple[float, ...]


class InMemoryColumn:
	"""``SortedColumn`` over values held in memory."""

	def __init__(self, values: Sequence[float] | np.ndarray):
		self.values = np.sort(np.asarray(values, dtype=float))

	def size(self) -> int:
		return int(self.values.size)

	def value_at(self, position: int) -> float:
		return float(self.values[position])

	def count_below_and_equal(self, value: float) -> tuple[int, int]:
		below = int(np.searchsorted(self.values, value, side="left"))
		return below, int(np.searchsorted(self.values, value, side="right")) - below

	def next_above(self, value: float) -> float | None:
		position = int(np.searchsorted(self.values, value, side="right"))
		return float(self.values[position]) if position < self.values.size else None


class CountedColumn:
	"""``SortedColumn`` over a histogram ``{value: count}``: exact, and as small as the number of distinct
	values (recency and frequency in days stay within the RFM window, whatever the population)."""

	def __init__(self, counts: Mapping[float, int]):
		self.values = np.array(sorted(value for value, count in counts.items() if count > 0), dtype=float)
		self.ends = np.cumsum([counts[value] for value in self.values]).astype(int)

	def size(self) -> int:
		return int(self.ends[-1]) if self.ends.size else 0

	def value_at(self, position: int) -> float:
		return float(self.values[int(np.searchsorted(self.ends, position, side="right"))])

	def count_below_and_equal(self, value: float) -> tuple[int, int]:
		index = int(np.searchsorted(self.values, value, side="left"))
		below = int(self.ends[index - 1]) if index else 0
		found = index < self.values.size and self.values[index] == value
		return below, (int(self.ends[index]) - below) if found else 0

	def next_above(self, value: float) -> float | None:
		index = int(np.searchsorted(self.values, value, side="right"))
		return float(self.values[index]) if index < self.values.size else None


def quintile_scores(values: Sequence[float] | np.ndarray) -> np.ndarray:
	"""Scores 1-5 (higher value, higher score) from mid-rank percentiles; ties share a score."""
	values = np.asarray(values, dtype=float)
	if values.size == 0:
		return np.zeros(0, dtype=int)
	return _score_of_rank(rankdata(values, method="average"), values.size).astype(int)


def quintile_cuts(column: SortedColumn) -> tuple[float, ...]:
	"""The four cut values of a population: ``score_from_cuts(v, cuts)`` equals ``quintile_scores`` of
	``v`` within it. A few lookups per cut, whatever the population's size.

	The first value scoring at least ``k + 1`` is the value at position ⌊k·n/5⌋ or, when that value's tie
	group scores lower, the next distinct value (every earlier group scores below ``k + 1``)."""
	n = column.size()
	cuts = []
	for level in range(1, 5):
		value = column.value_at(min(n - 1, level * n // 5)) if n else None
		while value is not None and _score_of_value(column, value, n) < level + 1:
			value = column.next_above(value)
		cuts.append(math.inf if value is None else value)
	return tuple(cuts)


def score_from_cuts(value: float, cuts: Sequence[float]) -> int:
	return 1 + sum(1 for cut in cuts if value >= cut)


def _score_of_value(column: SortedColumn, value: float, n: int) -> int:
	below, equal = column.count_below_and_equal(value)
	return int(_score_of_rank(below + (equal + 1) / 2, n))


def _score_of_rank(rank, n: int):
	"""Score of a (mid-)rank among n values; shared by both ways of scoring so they agree to the bit."""
	return np.clip(1 + np.floor(5 * ((rank - 0.5) / n)), 1, 5)


def rfm_segment(r_score: int, f_score: int, m_score: int) -> str:
	fm_score = (f_score + m_score + 1) // 2
	return _SEGMENT_GRID[5 - fm_score][r_score - 1]


def score_rfm(values_by_customer: Mapping[K, RfmValues], cuts: RfmCuts | None = None) -> dict[K, RfmScore]:
	"""Quintile scores and segments: against ``cuts`` of the whole population when given (a chunk at a
	time), else across the customers given (one call scores everyone together)."""
	cuts = cuts or population_cuts(values_by_customer.values())
	return {key: _scored(values, *_scores(values, cuts)) for key, values in values_by_customer.items()}


class RfmPopulation:
	"""The RFM population (customers who purchased in the window) summed up a customer at a time:
	recency and frequency as histograms, bounded by the window's days whatever the number of customers.
	The monetary value has no such bound; ``cuts`` takes its column from the caller."""

	def __init__(self):
		self.recency: Counter = Counter()  # -days, so that more recent is higher
		self.frequency: Counter = Counter()

	def add(self, values: RfmValues) -> bool:
		"""Count ``values`` in; False (and nothing counted) for a customer outside the population."""
		if values.frequency <= 0:
			return False
		self.recency[-values.recency_days] += 1
		self.frequency[values.frequency] += 1
		return True

	def cuts(self, monetary: SortedColumn) -> RfmCuts:
		return RfmCuts(
			recency=quintile_cuts(CountedColumn(self.recency)),
			frequency=quintile_cuts(CountedColumn(self.frequency)),
			monetary=quintile_cuts(monetary),
		)


def population_cuts(population: Iterable[RfmValues]) -> RfmCuts:
	counted, monetary = RfmPopulation(), []
	for values in population:
		if counted.add(values):
			monetary.append(values.monetary)
	return counted.cuts(InMemoryColumn(monetary))


def _scores(values: RfmValues, cuts: RfmCuts) -> tuple[int, int, int]:
	if values.frequency <= 0:
		return 1, 1, 1
	return (
		score_from_cuts(-values.recency_days, cuts.recency),
		score_from_cuts(values.frequency, cuts.frequency),
		score_from_cuts(values.monetary, cuts.monetary),
	)


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
