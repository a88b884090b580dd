from dataclasses import replace
from datetime import date, timedelta

import pytest

from crm_extension.customer_value.engine.fit_sample import FitSample
from crm_extension.customer_value.engine.history import InvoiceFact, summarize_customers
from crm_extension.customer_value.engine.rfm import population_cuts
from crm_extension.customer_value.engine.scoring import (
	TOO_FEW_MARGIN_CUSTOMERS,
	TOO_FEW_REPEAT_CUSTOMERS,
	ValueSettings,
	fit_sampled_model,
	score_customers,
	score_histories,
)

from .conftest import CDNOW_CALIBRATION_END

AS_OF = date(2024, 6, 30)
PARAM_KEYS = {"r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood"}


def fact(days_ago: int, revenue: float, margin: float) -> InvoiceFact:
	return InvoiceFact(AS_OF - timedelta(days=days_ago), revenue, margin)


@pytest.fixture(scope="module")
def cdnow_scores(cdnow_calibration_facts):
	# Margin at 30 % of revenue, so the model sees margin rather than revenue.
	facts = {
		customer: [InvoiceFact(f.posting_date, f.revenue, 0.3 * f.revenue) for f in rows]
		for customer, rows in cdnow_calibration_facts.items()
	}
	return score_customers(facts, CDNOW_CALIBRATION_END)


def test_too_few_repeat_customers_falls_back_to_the_documented_estimate():
	facts = {
		"repeat": [fact(200, 100.0, 40.0), fact(20, 100.0, 20.0)],
		"once": [fact(100, 50.0, 10.0)],
	}
	scores = score_customers(facts, AS_OF)
	assert scores.model.is_fallback
	assert scores.model.fallback_reason == TOO_FEW_REPEAT_CUSTOMERS
	assert scores.params == dict.fromkeys(PARAM_KEYS)
	repeat = scores.customers["repeat"]
	assert repeat.is_fallback
	retention = 1 - 20 / 365
	assert repeat.probability_alive == pytest.approx(retention)
	assert repeat.predicted_clv == pytest.approx(60.0 / 365 * 365.25 * retention)
	assert repeat.expected_purchases_90d == pytest.approx(2 / 365 * 90 * retention)
	assert repeat.expected_margin_per_purchase == pytest.approx(30.0)


def test_zero_margin_customers_keep_their_rfm_but_have_no_value():
	facts = {"free_shipping_fan": [fact(30, 80.0, 0.0), fact(3, 120.0, 0.0)]}
	result = score_customers(facts, AS_OF).customers["free_shipping_fan"]
	assert (result.frequency, result.monetary, result.recency_days) == (2, 200.0, 3)
	assert result.predicted_clv == 0.0


def test_repeat_customers_without_positive_margin_cannot_fit_the_spend_model():
	facts = {f"c{i}": [fact(100, 10.0, 0.0), fact(10 + i, 10.0, 0.0)] for i in range(12)}
	scores = score_customers(facts, AS_OF)
	assert scores.model.fallback_reason == TOO_FEW_MARGIN_CUSTOMERS


def test_customer_who_never_bought_gets_zeros_and_no_recency():
	result = score_customers({"prospect": []}, AS_OF).customers["prospect"]
	assert result.predicted_clv == 0.0
	assert result.expected_purchases == 0.0
	assert result.probability_alive == 0.0
	assert result.recency_days is None
	assert result.segment == "Lost"


def test_cdnow_fits_a_model_and_reports_its_parameters(cdnow_scores):
	params = cdnow_scores.params
	assert not cdnow_scores.model.is_fallback
	assert params.keys() == PARAM_KEYS
	assert params["r"] == pytest.approx(0.243, rel=0.01)
	# Margin is 30 % of spend: Gamma-Gamma's scale γ shrinks by the same factor, p and q do not move.
	assert params["gamma"] == pytest.approx(0.3 * 15.44, rel=0.01)
	assert params["q"] == pytest.approx(3.74, rel=0.01)


def test_every_customer_gets_a_complete_result(cdnow_scores):
	assert len(cdnow_scores.customers) == 2357
	for result in cdnow_scores.customers.values():
		assert 0.0 <= result.probability_alive <= 1.0
		assert 0.0 <= result.expected_purchases_90d <= result.expected_purchases
		assert result.predicted_clv >= 0.0
		assert not result.is_fallback
		assert 1 <= result.r_score <= 5


def test_frequent_recent_customer_is_worth_more_than_a_lapsed_one(cdnow_scores):
	# Sample ids: 0006 bought 8 days in calibration (last in late July); 0002 twice in January.
	assert cdnow_scores.customers["0006"].predicted_clv > 10 * cdnow_scores.customers["0002"].predicted_clv
	assert cdnow_scores.customers["0006"].segment == "Champions"


def test_results_export_as_plain_dicts(cdnow_scores):
	exported = cdnow_scores.customers["0001"].as_dict()
	assert {
		"probability_alive",
		"expected_purchases",
		"expected_purchases_90d",
		"predicted_clv",
	} <= exported.keys()
	assert {
		"recency_days",
		"frequency",
		"monetary",
		"r_score",
		"f_score",
		"m_score",
		"segment",
	} <= exported.keys()


def test_streaming_chunks_through_a_fit_sample_and_population_cuts_equals_one_call(cdnow_calibration_facts):
	"""The recompute's path: summaries a chunk at a time into a FitSample (which holds all 2,357 here),
	RFM cuts of the population, then each chunk scored on its own."""
	customers = sorted(cdnow_calibration_facts)
	settings = ValueSettings(horizon_months=6)
	chunks = [customers[start : start + 700] for start in range(0, len(customers), 700)]
	sample, population = FitSample(capacity=5000), []
	for chunk in chunks:
		for history in summarize_customers(
			{c: cdnow_calibration_facts[c] for c in chunk}, CDNOW_CALIBRATION_END, settings.rfm_window_days
		).values():
			sample.add(history.repeat)
			population.append(history.rfm)
	model = fit_sampled_model(sample, settings)
	cuts = population_cuts(population)
	chunked = {}
	for chunk in chunks:
		histories = summarize_customers(
			{c: cdnow_calibration_facts[c] for c in chunk}, CDNOW_CALIBRATION_END, settings.rfm_window_days
		)
		chunked.update(score_histories(histories, model, settings, cuts))
	assert chunked == score_customers(cdnow_calibration_facts, CDNOW_CALIBRATION_END, settings).customers


def test_minimum_repeat_customers_is_configurable(cdnow_calibration_facts):
	settings = replace(ValueSettings(), min_repeat_customers=5000)
	assert score_customers(cdnow_calibration_facts, CDNOW_CALIBRATION_END, settings).model.is_fallback
