"""Reduce one customer's invoice facts to the small summary the value model needs.

The reduction is per customer, so an adapter can stream customers in chunks, keep only the summaries
and fit/score the whole population afterwards.

Data preparation (this is what reproduces the published CDNOW fits):

- A fact with negative revenue is a return; every other fact is a purchase. Facts on the same posting
  date form one purchase day, so ``x`` counts repeat purchase DAYS, not invoices.
- ``repeat_margin_mean`` is the net margin of everything after the first purchase day (up to the
  calibration end, returns included) divided by ``x``: the first purchase is left out, as the
  Gamma-Gamma model expects. For CDNOW (no returns) this equals the mean of the per-day spend over the
  repeat days.
"""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple, TypeVar

from crm_extension.customer_value.engine.bgnbd import purchase_summary
from crm_extension.customer_value.engine.dates import DAYS_PER_WEEK, as_date
from crm_extension.customer_value.engine.rfm import RfmValues, rfm_values

K = TypeVar("K", bound=Hashable)


class InvoiceFact(NamedTuple):
	posting_date: date
	revenue: float
	margin: float = 0.0


@dataclass(frozen=True)
class RepeatSummary:
	frequency: int  # x: repeat purchase days
	recency_weeks: float  # t_x: first to last purchase
	age_weeks: float  # T: first purchase to calibration end
	repeat_margin_mean: float  # m_x: net margin per repeat purchase day; 0 when x = 0


def repeat_summary_days(summary: RepeatSummary) -> tuple[int, int]:
	"""``(days from the first to the last purchase, days from the first purchase to the calibration
	end)``: whole numbers, for storing a summary exactly (``repeat_summary_from_days`` reads it back)."""
	return round(summary.recency_weeks * DAYS_PER_WEEK), round(summary.age_weeks * DAYS_PER_WEEK)


def repeat_summary_from_days(
	frequency: int, first_to_last_days: int, first_to_end_days: int, repeat_margin_mean: float
) -> RepeatSummary:
	return RepeatSummary(
		frequency=int(frequency),
		recency_weeks=first_to_last_days / DAYS_PER_WEEK,
		age_weeks=first_to_end_days / DAYS_PER_WEEK,
		repeat_margin_mean=float(repeat_margin_mean),
	)


@dataclass(frozen=True)
class CustomerHistory:
	repeat: RepeatSummary | None  # None: no purchase up to the calibration end
	rfm: RfmValues
	window_margin: float  # net margin inside the RFM window (used by the fallback estimate)


def normalised_facts(facts: Iterable[Sequence[Any]]) -> list[InvoiceFact]:
	"""Accept ``InvoiceFact`` or plain ``(date, revenue[, margin])`` rows; dates may be ISO strings."""
	return [
		fact if isinstance(fact, InvoiceFact) and type(fact.posting_date) is date else _normalised(fact)
		for fact in facts
	]


def _normalised(fact: Sequence[Any]) -> InvoiceFact:
	return InvoiceFact(as_date(fact[0]), float(fact[1]), float(fact[2]) if len(fact) > 2 else 0.0)


def purchase_dates(facts: Iterable[Sequence[Any]]) -> list[date]:
	return [fact.posting_date for fact in normalised_facts(facts) if fact.revenue >= 0]


def repeat_summary(facts: Iterable[Sequence[Any]], calibration_end: date) -> RepeatSummary | None:
	facts = normalised_facts(facts)
	calibration_end = as_date(calibration_end)
	days = [fact.posting_date for fact in facts if fact.revenue >= 0 and fact.posting_date <= calibration_end]
	if not days:
		return None
	x, t_x, T = purchase_summary(days, calibration_end)
	first_day = min(days)
	later_margin = sum(f.margin for f in facts if first_day < f.posting_date <= calibration_end)
	return RepeatSummary(
		frequency=x,
		recency_weeks=t_x,
		age_weeks=T,
		repeat_margin_mean=later_margin / x if x else 0.0,
	)


def summarize_customer(
	facts: Iterable[Sequence[Any]], as_of: date, window_days: int = 365
) -> CustomerHistory:
	facts = normalised_facts(facts)
	as_of = as_date(as_of)
	window_start = as_of - timedelta(days=window_days)
	return CustomerHistory(
		repeat=repeat_summary(facts, as_of),
		rfm=rfm_values(facts, as_of, window_days),
		window_margin=sum(f.margin for f in facts if window_start < f.posting_date <= as_of),
	)


def summarize_customers(
	facts_by_customer: Mapping[K, Iterable[Sequence[Any]]], as_of: date, window_days: int = 365
) -> dict[K, CustomerHistory]:
	return {key: summarize_customer(facts, as_of, window_days) for key, facts in facts_by_customer.items()}
