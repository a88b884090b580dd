"""Top-level facade: invoice facts in, per-customer value results and model parameters out.

One call: ``score_customers(facts_by_customer, as_of, settings)``.
Chunked, in bounded memory: ``summarize_customer(facts, as_of, window_days)`` per customer (history
module), each summary added to a ``FitSample``, then ``fit_sampled_model(sample, settings)``; RFM cuts of
the population (``rfm.quintile_cuts``) and ``score_histories(chunk, model, settings, rfm_cuts)`` per chunk.

The model is fitted on all history up to ``as_of`` and predicts forward from ``as_of``. When the data
cannot support it (fewer than ``min_repeat_customers`` repeat customers, or fewer with a positive
repeat margin, or a fit that does not converge) the model is ``None`` and every customer gets the
fallback estimate documented in the clv module, flagged with ``is_fallback``. Customers who never
purchased get zeros.
"""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import numpy as np

from crm_extension.customer_value.engine import bgnbd, gamma_gamma
from crm_extension.customer_value.engine.clv import (
	DAYS_PER_MONTH,
	DiscountPeriod,
	discounted_clv,
	fallback_clv,
	retention_proxy,
)
from crm_extension.customer_value.engine.dates import DAYS_PER_WEEK, WEEKS_PER_MONTH
from crm_extension.customer_value.engine.fit_sample import FitSample
from crm_extension.customer_value.engine.history import CustomerHistory, summarize_customers
from crm_extension.customer_value.engine.rfm import RfmCuts, RfmScore, score_rfm
from crm_extension.i18n import N_

K = TypeVar("K", bound=Hashable)
SHORT_TERM_DAYS = 90

TOO_FEW_REPEAT_CUSTOMERS = N_("Too few repeat customers to fit the purchase model")
TOO_FEW_MARGIN_CUSTOMERS = N_("Too few repeat customers with a positive margin to fit the spend model")
PURCHASE_MODEL_FAILED = N_("The purchase model fit did not converge")
SPEND_MODEL_FAILED = N_("The spend model fit did not converge or has no finite mean")


@dataclass(frozen=True)
class ValueSettings:
	horizon_months: int = 12
	annual_discount_rate: float = 0.10
	discount_period: DiscountPeriod = "month"
	rfm_window_days: int = 365
	min_repeat_customers: int = 10


@dataclass(frozen=True)
class ValueModel:
	bgnbd: bgnbd.BgNbdFit | None
	gamma_gamma: gamma_gamma.GammaGammaFit | None
	fallback_reason: str | None = None

	@property
	def is_fallback(self) -> bool:
		return self.fallback_reason is not None

	def params(self) -> dict[str, float | None]:
		"""``{r, alpha, a, b, p, q, gamma, log_likelihood}`` (BG/NBD log-likelihood); all None on fallback."""
		if self.is_fallback:
			return dict.fromkeys(("r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood"))
		return {
			**asdict(self.bgnbd.params),
			**asdict(self.gamma_gamma.params),
			"log_likelihood": self.bgnbd.log_likelihood,
		}


@dataclass(frozen=True)
class CustomerValue:
	probability_alive: float
	expected_purchases: float  # over the horizon
	expected_purchases_90d: float
	expected_margin_per_purchase: float
	predicted_clv: float
	is_fallback: bool
	recency_days: int | None
	frequency: int
	monetary: float
	r_score: int
	f_score: int
	m_score: int
	segment: str

	def as_dict(self) -> dict[str, Any]:
		return asdict(self)


@dataclass(frozen=True)
class ValueScores(Generic[K]):
	customers: dict[K, CustomerValue]
	model: ValueModel

	@property
	def params(self) -> dict[str, float | None]:
		return self.model.params()


def fit_value_model(
	histories: Mapping[Any, CustomerHistory], settings: ValueSettings = ValueSettings()
) -> ValueModel:
	"""Fit on every purchaser given (see ``fit_sampled_model`` for a recompute that streams customers)."""
	sample = FitSample(capacity=max(len(histories), 1))
	for history in histories.values():
		sample.add(history.repeat)
	return fit_sampled_model(sample, settings)


def fit_sampled_model(sample: FitSample, settings: ValueSettings = ValueSettings()) -> ValueModel:
	if sample.repeat_customers < settings.min_repeat_customers:
		return ValueModel(None, None, TOO_FEW_REPEAT_CUSTOMERS)
	if sample.margin_repeat_customers < settings.min_repeat_customers:
		return ValueModel(None, None, TOO_FEW_MARGIN_CUSTOMERS)
	x, t_x, T, m_x = sample.arrays()
	purchase_fit = bgnbd.fit_bgnbd(x, t_x, T)
	if not purchase_fit.converged:
		return ValueModel(None, None, PURCHASE_MODEL_FAILED)
	spend_fit = gamma_gamma.fit_gamma_gamma(x, m_x)
	if not spend_fit.converged or spend_fit.params.q <= 1:
		return ValueModel(None, None, SPEND_MODEL_FAILED)
	return ValueModel(purchase_fit, spend_fit)


def score_histories(
	histories: Mapping[K, CustomerHistory],
	model: ValueModel,
	settings: ValueSettings = ValueSettings(),
	rfm_cuts: RfmCuts | None = None,
) -> dict[K, CustomerValue]:
	"""RFM scores are against ``rfm_cuts`` of the whole population when a chunk is scored, else across
	the histories given."""
	keys = list(histories)
	rfm = score_rfm({key: histories[key].rfm for key in keys}, rfm_cuts)
	predict = _fallback_predictions if model.is_fallback else _model_predictions
	predictions = predict([histories[key] for key in keys], model, settings)
	return {
		key: _customer_value(rfm[key], model.is_fallback, *row)
		for key, row in zip(keys, zip(*predictions, strict=True), strict=True)
	}


def score_customers(
	facts_by_customer: Mapping[K, Iterable[Sequence[Any]]],
	as_of: date,
	settings: ValueSettings = ValueSettings(),
) -> ValueScores[K]:
	"""Facts are ``InvoiceFact(posting_date, revenue, margin)`` rows (or plain tuples) per customer."""
	histories = summarize_customers(facts_by_customer, as_of, settings.rfm_window_days)
	model = fit_value_model(histories, settings)
	return ValueScores(customers=score_histories(histories, model, settings), model=model)


def _model_predictions(
	histories: list[CustomerHistory], model: ValueModel, settings: ValueSettings
) -> tuple[np.ndarray, ...]:
	"""Columns: probability_alive, expected_purchases, expected_purchases_90d, margin, clv."""
	purchased = np.array([h.repeat is not None for h in histories], dtype=bool)
	x, t_x, T, m_x = _repeat_arrays(histories)
	params = model.bgnbd.params
	horizon_weeks = settings.horizon_months * WEEKS_PER_MONTH
	margin = gamma_gamma.conditional_expected_value(model.gamma_gamma.params, x, m_x)
	columns = (
		bgnbd.probability_alive(params, x, t_x, T),
		bgnbd.conditional_expected_purchases(params, horizon_weeks, x, t_x, T),
		bgnbd.conditional_expected_purchases(params, SHORT_TERM_DAYS / DAYS_PER_WEEK, x, t_x, T),
		margin,
		discounted_clv(
			params,
			x,
			t_x,
			T,
			margin,
			horizon_months=settings.horizon_months,
			annual_discount_rate=settings.annual_discount_rate,
			period=settings.discount_period,
		),
	)
	return tuple(np.where(purchased, column, 0.0) for column in columns)


def _fallback_predictions(
	histories: list[CustomerHistory], model: ValueModel, settings: ValueSettings
) -> tuple[np.ndarray, ...]:
	window_days = settings.rfm_window_days
	recency = np.array([np.nan if h.rfm.recency_days is None else h.rfm.recency_days for h in histories])
	frequency = np.array([h.rfm.frequency for h in histories], dtype=float)
	window_margin = np.array([h.window_margin for h in histories], dtype=float)
	retention = retention_proxy(recency, window_days)
	purchases_per_day = frequency / window_days * retention
	horizon_days = settings.horizon_months * DAYS_PER_MONTH
	margin = np.divide(window_margin, frequency, out=np.zeros_like(window_margin), where=frequency > 0)
	return (
		retention,
		purchases_per_day * horizon_days,
		purchases_per_day * SHORT_TERM_DAYS,
		margin,
		fallback_clv(window_margin, recency, window_days, settings.horizon_months),
	)


def _repeat_arrays(histories: list[CustomerHistory]) -> tuple[np.ndarray, ...]:
	"""x, t_x, T, m_x per customer; harmless placeholders (0, 0, 1, 0) for customers who never bought."""
	rows = [
		(h.repeat.frequency, h.repeat.recency_weeks, h.repeat.age_weeks, h.repeat.repeat_margin_mean)
		if h.repeat is not None
		else (0.0, 0.0, 1.0, 0.0)
		for h in histories
	]
	return tuple(np.array(rows, dtype=float).reshape(-1, 4).T)


def _customer_value(
	rfm: RfmScore,
	is_fallback: bool,
	probability_alive: float,
	expected_purchases: float,
	expected_purchases_90d: float,
	margin: float,
	clv: float,
) -> CustomerValue:
	return CustomerValue(
		probability_alive=float(probability_alive),
		expected_purchases=float(expected_purchases),
		expected_purchases_90d=float(expected_purchases_90d),
		expected_margin_per_purchase=float(margin),
		predicted_clv=float(clv),
		is_fallback=is_fallback,
		recency_days=rfm.recency_days,
		frequency=rfm.frequency,
		monetary=rfm.monetary,
		r_score=rfm.r_score,
		f_score=rfm.f_score,
		m_score=rfm.m_score,
		segment=rfm.segment,
	)
