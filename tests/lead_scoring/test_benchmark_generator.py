"""The model-quality benchmark's generator and baseline do what its write-up says they do."""

import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from benchmarks.lead_scoring.generator import (
	INTERACTIONS,
	SITE_FEATURES,
	decayed_engagement,
	fit_logit,
	generate_leads,
)
from benchmarks.lead_scoring.model_quality import NaiveBayesFrequencies, lead_fields_only
from crm_extension.lead_scoring.engine.model import training_example

WHEN = datetime(2024, 6, 1)


@pytest.fixture(scope="module")
def generated():
	return generate_leads(600, seed=3)


def test_same_seed_same_leads(generated):
	again = generate_leads(600, seed=3)

	assert [(g.key, g.converted, g.decided_at, len(g.feed)) for g in again] == [
		(g.key, g.converted, g.decided_at, len(g.feed)) for g in generated
	]


def test_a_recent_reply_weighs_more_than_an_old_one():
	recent = [{"direction": "Inbound", "outcome": "Replied", "at": WHEN - timedelta(days=2)}]
	old = [{"direction": "Inbound", "outcome": "Replied", "at": WHEN - timedelta(days=60)}]
	later = [{"direction": "Inbound", "outcome": "Replied", "at": WHEN + timedelta(days=1)}]

	assert decayed_engagement(recent, WHEN) == pytest.approx(0.5 ** (2 / 14))
	assert decayed_engagement(old, WHEN) < 0.1 * decayed_engagement(recent, WHEN)
	assert decayed_engagement(later, WHEN) == 0.0


def test_industry_and_size_interact():
	lead = {"source": "Website", "territory": "North", "type": "Client"}
	software = [
		fit_logit({**lead, "industry": "Software", "no_of_employees": size}) for size in ("1-10", "1000+")
	]
	finance = [
		fit_logit({**lead, "industry": "Finance", "no_of_employees": size}) for size in ("1-10", "1000+")
	]

	assert (software[1] - software[0]) - (finance[1] - finance[0]) == pytest.approx(
		INTERACTIONS[("Software", "large")] - INTERACTIONS[("Software", "small")]
	)


def test_leakage_traps_come_after_the_outcome_and_stay_out_of_the_rows(generated):
	for lead in generated[:100]:
		example = training_example(lead.key, lead.lead, lead.feed, lead.facts, SITE_FEATURES)
		after = [item for item in lead.feed if item["at"] >= lead.decided_at]

		assert after and example.label == int(lead.converted)
		assert example.decided_at == lead.decided_at
		assert example.row.get("count:7d:outcome:Bounced", 0) == 0


def test_outcomes_follow_the_true_probabilities(generated):
	probabilities = np.array([g.true_probability for g in generated])
	converted = np.array([g.converted for g in generated])

	assert abs(converted.mean() - probabilities.mean()) < 0.05
	assert converted[probabilities > 0.6].mean() > converted[probabilities < 0.2].mean() + 0.4


def test_naive_bayes_multiplies_laplace_smoothed_frequencies():
	rows = [{"source": "A"}, {"source": "A"}, {"source": "B"}, {"source": "B"}, {"source": "B"}]
	labels = [1, 1, 1, 0, 0]

	model = NaiveBayesFrequencies(lambda row: {"source": row["source"]}).fit(rows, labels)
	probability = model.predict([{"source": "A"}, {"source": "C"}])

	# two values seen: P(A | won) = (2 + 1) / (3 + 3), P(A | lost) = (0 + 1) / (2 + 3)
	won, lost = 3 / 5 * 3 / 6, 2 / 5 * 1 / 5
	assert probability[0] == pytest.approx(won / (won + lost))
	unseen_won, unseen_lost = 3 / 5 * 1 / 6, 2 / 5 * 1 / 5
	assert probability[1] == pytest.approx(unseen_won / (unseen_won + unseen_lost))
	assert math.isclose(
		model.predict([{"source": "B"}])[0], (3 / 5 * 2 / 6) / (3 / 5 * 2 / 6 + 2 / 5 * 3 / 5)
	)


def test_the_baseline_reads_the_lead_fields_but_no_engagement(generated):
	example = training_example(
		generated[0].key, generated[0].lead, generated[0].feed, generated[0].facts, SITE_FEATURES
	)

	fields = lead_fields_only(example.row)

	assert set(fields) == {*SITE_FEATURES.categorical_fields, *SITE_FEATURES.presence_fields}
	assert not any(name.startswith("count:") for name in fields)
