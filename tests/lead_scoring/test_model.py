from datetime import datetime, timedelta

import numpy as np
import pytest

from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.features import OutcomeFacts, feature_row
from crm_extension.lead_scoring.engine.model import (
	CATEGORY_RATE,
	MODEL_UNREADABLE,
	NOT_ENOUGH_DATA,
	NOT_ENOUGH_LEADS,
	TRAINED,
	TrainingExample,
	calibration_bins,
	dump_model,
	explain_lead,
	lift_by_decile,
	load_model,
	predict_probabilities,
	train_model,
	training_example,
)
from tests.lead_scoring.simulate import simulate_leads

TRAINED_ON = datetime(2025, 1, 1)


@pytest.fixture(scope="module")
def simulated():
	return simulate_leads(2400, seed=7)


@pytest.fixture(scope="module")
def examples(simulated):
	return [training_example(lead.key, lead.lead, lead.feed, lead.facts) for lead in simulated]


@pytest.fixture(scope="module")
def result(examples):
	return train_model(examples, TRAINED_ON)


def test_model_learns_the_known_conversion_process_on_a_later_holdout(result):
	quality = result.quality

	assert result.status == TRAINED
	assert quality.auc > 0.72
	assert (quality.n_train, quality.n_holdout) == (1800, 600)
	assert quality.train_positives + quality.train_negatives == 1800


def test_probabilities_are_calibrated_on_the_holdout(result):
	quality = result.quality
	base_rate = quality.holdout_positives / quality.n_holdout
	weighted_error = sum(b.leads * abs(b.mean_predicted - b.observed_rate) for b in quality.calibration)

	assert quality.brier < base_rate * (1 - base_rate) - 0.03
	assert weighted_error / quality.n_holdout < 0.08
	assert sum(b.leads for b in quality.calibration) == quality.n_holdout


def test_best_predicted_decile_converts_well_above_average(result):
	lift = result.quality.lift

	assert len(lift) == 10
	assert sum(row.leads for row in lift) == 600
	assert lift[0].lift > 1.4
	assert lift[0].conversion_rate > lift[-1].conversion_rate


def test_training_rows_never_see_what_happened_after_the_outcome(simulated, examples):
	converted = next(lead for lead in simulated if lead.converted)
	example = next(example for example in examples if example.key == converted.key)

	assert any(item["at"] > converted.decided_at for item in converted.feed)
	assert not any("Sales Document" in name for example in examples for name in example.row)
	assert example.row == feature_row(
		converted.lead, [i for i in converted.feed if i["at"] < converted.decided_at], converted.decided_at
	)


def test_holdout_is_the_latest_decided_leads(examples):
	ordered = sorted(examples, key=lambda example: example.decided_at)
	shuffled = list(reversed(examples))

	assert train_model(shuffled, TRAINED_ON).quality == train_model(ordered, TRAINED_ON).quality


def test_too_few_leads_of_a_class_falls_back_to_rules_only(examples):
	positives = [example for example in examples if example.label == 1][:39]
	negatives = [example for example in examples if example.label == 0][:500]

	fallback = train_model(positives + negatives, TRAINED_ON)
	trained = train_model(
		positives + negatives[:39] + [e for e in examples if e.label == 1][39:40], TRAINED_ON
	)

	assert (fallback.status, fallback.model, fallback.quality) == (NOT_ENOUGH_DATA, None, None)
	assert fallback.message.template == NOT_ENOUGH_LEADS
	assert dict(fallback.message.params) == {"positives": 39, "negatives": 500, "minimum": 40}
	assert train_model(positives + negatives[:39], TRAINED_ON).status == NOT_ENOUGH_DATA
	assert trained.status == NOT_ENOUGH_DATA  # 40 converted but only 39 lost
	assert (
		train_model(
			positives[:39] + [e for e in examples if e.label == 1][39:40] + negatives[:40], TRAINED_ON
		).status
		== TRAINED
	)


def test_open_leads_and_outcomes_without_a_time_give_no_training_example(simulated):
	lead = simulated[0]

	assert training_example("x", lead.lead, lead.feed, OutcomeFacts("Open")) is None
	assert training_example("x", lead.lead, lead.feed, OutcomeFacts("Converted")) is None


def test_stored_model_predicts_the_same_and_keeps_its_version(result, examples):
	model = result.model
	rows = [example.row for example in examples[:50]]

	restored = load_model(dump_model(model))

	assert restored.version == model.version
	assert restored.version.startswith("20250101.000000-")
	assert restored.feature_names == model.feature_names
	assert np.allclose(predict_probabilities(restored, rows), predict_probabilities(model, rows))
	assert ((predict_probabilities(model, rows) > 0) & (predict_probabilities(model, rows) < 1)).all()


def test_same_training_data_gives_the_same_version(examples, result):
	assert train_model(list(reversed(examples)), TRAINED_ON).model.version == result.model.version


def test_unreadable_or_foreign_model_bytes_are_refused():
	import pickle

	for data in (b"not a pickle", pickle.dumps({"format": 999})):
		with pytest.raises(LeadScoringError) as raised:
			load_model(data)
		assert raised.value.template == MODEL_UNREADABLE


def test_open_lead_with_unseen_categories_is_still_scored(result):
	row = {"source": "Trade Fair", "count:30d:channel:Carrier Pigeon": 3.0}

	assert 0 < predict_probabilities(result.model, [row])[0] < 1


def test_explanation_names_the_drivers_of_a_hot_and_a_cold_lead(result):
	when = datetime(2025, 1, 1)
	replies = [
		{"channel": "WhatsApp", "direction": "Inbound", "at": when - timedelta(days=day)}
		for day in range(1, 9)
	]
	hot = feature_row({"source": "Referral", "email_id": "a@b.example"}, replies, when)
	cold = feature_row({"source": "Cold Calling"}, [], when)

	hot_reasons = explain_lead(result.model, hot)
	cold_reasons = explain_lead(result.model, cold)

	assert {"source", "channel"} <= {
		factor.params.get("field", "channel" * ("channel" in factor.params)) for factor in hot_reasons.up
	}
	assert all(factor.effect > 0 for factor in hot_reasons.up)
	assert any(factor.params == {"field": "source", "value": "Cold Calling"} for factor in cold_reasons.down)
	assert all(factor.effect < 0 for factor in cold_reasons.down)
	referral = next(factor for factor in hot_reasons.categories if factor.template == CATEGORY_RATE)
	assert referral.params["value"] == "Referral" and referral.params["ratio"] > 1.25
	assert cold_reasons.categories[0].params["ratio"] < 0.8


def test_calibration_bins_and_lift_on_known_numbers():
	predicted = np.array([0.05, 0.15, 0.18, 0.95, 1.0])
	actual = np.array([0, 0, 1, 1, 1])

	bins = calibration_bins(predicted, actual, bins=10)
	lift = lift_by_decile(["a", "b", "c", "d", "e"], predicted, actual)

	assert [(b.lower, b.leads, b.observed_rate) for b in bins] == [
		(0.0, 1, 0.0),
		(0.1, 2, 0.5),
		(0.9, 2, 1.0),
	]
	assert [row.positives for row in lift] == [1, 1, 1, 0, 0]
	assert lift[0].lift == pytest.approx(1 / 0.6)


def test_one_class_holdout_reports_no_auc():
	rows = [{"source": "A" if i % 2 else "B", "x:n": float(i)} for i in range(200)]
	start = datetime(2024, 1, 1)
	examples = [
		TrainingExample(str(i), rows[i], int(i >= 150 or i % 2), start + timedelta(days=i))
		for i in range(200)
	]

	quality = train_model(examples, TRAINED_ON).quality

	assert quality.holdout_negatives == 0
	assert quality.auc is None
