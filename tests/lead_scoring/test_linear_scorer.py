import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from crm_extension.lead_scoring.engine.features import (
	DEFAULT_FEATURES,
	FeatureSettings,
	count_key,
	feature_row,
	field_features,
	known_before,
	known_within,
	last_contact,
)
from crm_extension.lead_scoring.engine.linear_scorer import CountTerm, LinearScorer, probability
from crm_extension.lead_scoring.engine.model import (
	linear_scorer,
	predict_probabilities,
	train_model,
	training_example,
)
from tests.lead_scoring.simulate import simulate_leads


@pytest.fixture(scope="module")
def trained():
	leads = simulate_leads(1200, seed=11)
	examples = [training_example(lead.key, lead.lead, lead.feed, lead.facts) for lead in leads]
	examples = [example for example in examples if example]
	return train_model(examples, datetime(2025, 1, 1)).model, [example.row for example in examples]


def test_the_scorers_probabilities_are_the_calibrated_models(trained):
	model, rows = trained
	scorer = linear_scorer(model)

	mine = np.array([probability(scorer.logit(row)) for row in rows])

	assert np.abs(mine - predict_probabilities(model, rows)).max() < 1e-9
	assert mine.max() - mine.min() > 0.5  # leads the model tells apart


def test_count_terms_add_up_to_what_the_counts_give_the_log_odds(trained):
	model, rows = trained
	scorer = linear_scorer(model)
	row = max(rows, key=lambda row: sum(1 for key in row if key.startswith("count:")))
	uncounted = {key: value for key, value in row.items() if not key.startswith("count:")}

	terms = scorer.count_terms
	summed = sum(term.weight * np.log1p(row.get(_key(term), 0)) for term in terms)

	assert len(terms) > 5
	assert scorer.logit(row) == pytest.approx(scorer.logit(uncounted) + summed, abs=1e-12)
	assert summed != pytest.approx(0.0)


def test_a_leads_log_odds_from_its_parts_equal_those_of_its_feature_row(trained):
	model, _rows = trained
	scorer = linear_scorer(model)
	fields = scorer.field_terms(DEFAULT_FEATURES)

	for lead in simulate_leads(200, seed=12):
		cutoff = lead.decided_at
		known = known_before(lead.feed, cutoff)
		counts = scorer.term_counts(known, cutoff)

		mine = scorer.lead_logit(
			fields, lead.lead, scorer.counts_logit(counts), last_contact(known), cutoff, DEFAULT_FEATURES
		)

		assert mine == pytest.approx(scorer.logit(feature_row(lead.lead, lead.feed, cutoff)), abs=1e-12)


def test_field_terms_read_the_leads_fields_as_feature_rows_do():
	scorer = LinearScorer(
		intercept=0.0,
		weights={
			"source=Referral": 2.0,
			"source=None": 5.0,
			"source=5": 3.0,
			"has:email_id": 1.0,
			"num:annual_revenue": 0.5,
			"industry=Retail": 7.0,
		},
	)
	settings = FeatureSettings(
		categorical_fields=("source",),
		presence_fields=("email_id", "website"),
		numeric_fields=("annual_revenue",),
	)
	fields = scorer.field_terms(settings)
	leads = [
		{"source": " Referral ", "email_id": "a@example.com", "annual_revenue": "99", "industry": "Retail"},
		{"source": None, "email_id": "  ", "annual_revenue": -5},
		{"source": "Cold Call", "annual_revenue": None},
		{"source": 5, "email_id": "\t\n"},  # a number's text; whitespace of any kind is not set
	]

	for lead in leads:
		assert fields.logit(lead) == pytest.approx(scorer.terms(field_features(lead, settings)), abs=1e-12)
	assert fields.logit(leads[0]) == pytest.approx(3.0 * np.log(2.0) + 0.5 * np.log(100.0))
	assert fields.logit(leads[1]) == 0.0  # not set: not the text "None"
	assert fields.logit(leads[3]) == pytest.approx(3.0 * np.log(2.0))


def test_term_counts_count_what_the_feature_rows_count():
	weights = {
		"count:7d:all": 1.0,
		"count:30d:all": 1.0,
		"count:30d:outcome:Replied": 1.0,
		"count:7d:channel:Email": 1.0,
		"count:30d:direction:Inbound": 1.0,
	}
	scorer = LinearScorer(intercept=0.0, weights=weights)
	cutoff = datetime(2025, 3, 1)
	items = [
		{
			"at": cutoff - timedelta(days=7),
			"channel": "Email",
			"direction": "Inbound",
			"outcome": " Replied ",
		},
		{"at": cutoff - timedelta(days=7, seconds=1), "channel": "Email", "direction": "", "outcome": None},
		{"at": cutoff - timedelta(days=29), "channel": None, "direction": "Inbound", "outcome": "Replied"},
		{"at": cutoff - timedelta(days=31), "channel": "Email", "direction": "Inbound", "outcome": "Replied"},
	]
	row = feature_row({}, items, cutoff)

	counts = scorer.term_counts(items, cutoff)

	assert dict(zip(scorer.count_terms, counts, strict=True)) == {
		term: row.get(_key(term), 0) for term in scorer.count_terms
	}
	assert counts == [3, 2, 2, 1, 1]  # 30 days: all, Inbound, Replied; 7 days: all, Email


def test_features_the_model_never_saw_add_nothing():
	scorer = LinearScorer(intercept=-1.0, weights={"source=Referral": 2.0, "num:annual_revenue": 0.5})

	assert scorer.logit({"source": "Cold Call", "count:7d:all": 3.0}) == -1.0
	assert scorer.logit({"source": "Referral"}) == pytest.approx(-1.0 + 2.0 * np.log(2.0))
	assert scorer.logit({"num:annual_revenue": 9.0}) == pytest.approx(-1.0 + 0.5 * np.log(10.0))


def test_a_count_features_name_gives_its_window_dimension_and_value():
	scorer = LinearScorer(
		intercept=0.0,
		weights={"count:7d:all": 1.0, "count:90d:outcome:Meeting Held": -0.5, "count:30d:channel:a:b": 0.2},
	)

	assert scorer.count_terms == (
		CountTerm(90, "outcome", "Meeting Held", -0.5),
		CountTerm(30, "channel", "a:b", 0.2),
		CountTerm(7, None, None, 1.0),
	)


def test_stored_weights_read_back_as_the_same_scorer(trained):
	model, rows = trained
	scorer = linear_scorer(model)

	restored = LinearScorer.from_dict(json.loads(json.dumps(scorer.as_dict())))

	assert restored == scorer
	assert restored.version == model.version
	assert restored.logit(rows[0]) == scorer.logit(rows[0])
	assert LinearScorer.from_dict({"format": 99, "intercept": 0.0, "weights": {}}) is None


def test_probability_is_the_logistic_function_even_far_from_zero():
	assert probability(0.0) == 0.5
	assert probability(800.0) == 1.0
	assert probability(-800.0) == 0.0
	assert probability(np.log(3.0)) == pytest.approx(0.75)


def _key(term: CountTerm) -> str:
	if term.dimension is None:
		return count_key(term.days, "all")
	return count_key(term.days, term.dimension, term.value)


def test_a_leads_counts_add_its_documents_and_its_items_per_term():
	scorer = LinearScorer(intercept=0.0, weights={"count:30d:all": 1.0, "count:7d:channel:Email": 1.0})
	cutoff = datetime(2025, 3, 1)
	emails = [{"at": cutoff - timedelta(days=2), "channel": "Email"}]

	assert scorer.summed_counts([[4, 1], [2, 0]], emails, cutoff) == [7, 2]
	assert scorer.summed_counts([], [], cutoff) == [0, 0]


def test_known_within_keeps_the_items_a_window_counts():
	cutoff = datetime(2025, 3, 1)
	items = [
		{"at": cutoff - timedelta(days=90)},
		{"at": cutoff - timedelta(days=90, seconds=1)},
		{"at": cutoff},
		{"at": None},
	]

	assert known_within(items, cutoff, 90) == items[:1]
