import json

import frappe
from frappe.utils import add_days, now_datetime

from crm_extension.api import lead_scoring as lead_scoring_api
from crm_extension.lead_scoring.context import load_context, stored_model
from crm_extension.lead_scoring.engine.features import feature_row
from crm_extension.lead_scoring.engine.linear_scorer import LinearScorer
from crm_extension.lead_scoring.engine.model import linear_scorer, predict_probabilities
from crm_extension.lead_scoring.scoring import score_leads, stored_probability
from crm_extension.lead_scoring.tests.factories import clear_rules, lead_source
from crm_extension.lead_scoring.touches import load_touches
from crm_extension.lead_scoring.training import train
from crm_extension.patches.v0_1 import store_lead_model_weights
from crm_extension.tests.factories import make_activity, make_lead
from crm_extension.tests.utils import CRMTestCase

SETTINGS = "Lead Scoring Settings"


def decided_lead(source: str, converted: bool, replies: int, days_ago: int) -> str:
	"""A Lead decided `days_ago` days ago, with `replies` inbound messages in the week before that."""
	decided = add_days(now_datetime(), -days_ago)
	lead = make_lead(source=source)
	for reply in range(replies):
		make_activity(
			"Lead",
			lead.name,
			channel="WhatsApp",
			direction="Inbound",
			activity_at=add_days(decided, -1 - reply),
		)
	frappe.db.set_value(
		"Lead",
		lead.name,
		{"status": "Converted" if converted else "Do Not Contact", "modified": decided},
		update_modified=False,
	)
	return lead.name


class TestLeadModel(CRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		clear_rules()
		frappe.db.set_single_value(SETTINGS, "min_leads_per_class", 40)
		warm, cold = lead_source("Referral"), lead_source("Cold Call")
		# Converted leads mostly came by referral and wrote back; lost ones mostly did not.
		for index in range(50):
			decided_lead(
				warm if index % 5 else cold, converted=True, replies=2 + index % 3, days_ago=1 + index
			)
			decided_lead(cold if index % 5 else warm, converted=False, replies=index % 2, days_ago=1 + index)

	def test_model_trains_on_decided_leads_and_reports_holdout_quality(self):
		summary = train()

		self.assertEqual(summary["status"], "Trained")
		self.assertGreaterEqual(summary["positives"], 50)
		self.assertGreaterEqual(summary["negatives"], 50)
		self.assertEqual(
			summary["n_train"] + summary["n_holdout"], summary["positives"] + summary["negatives"]
		)
		self.assertGreater(summary["auc"], 0.7)
		settings = frappe.get_single(SETTINGS)
		self.assertTrue(settings.model_data and settings.model_version)
		self.assertIn("calibration", frappe.parse_json(settings.model_quality))

	def test_open_lead_gets_a_calibrated_probability_and_model_factors(self):
		train()
		warm_lead, cold_lead = make_lead(source="Referral"), make_lead(source="Cold Call")
		for _ in range(3):
			make_activity(
				"Lead", warm_lead.name, channel="WhatsApp", direction="Inbound", activity_at=now_datetime()
			)

		score_leads([warm_lead.name, cold_lead.name])

		warm = frappe.db.get_value("Lead", warm_lead.name, "conversion_probability")
		cold = frappe.db.get_value("Lead", cold_lead.name, "conversion_probability")
		self.assertGreater(warm, cold)
		self.assertTrue(0 < cold < warm < 100)
		model = lead_scoring_api.explain(warm_lead.name)["model"]
		self.assertTrue(model["up"], model)
		self.assertEqual(model["version"], frappe.db.get_single_value(SETTINGS, "model_version"))

	def test_scoring_uses_the_weights_stored_with_the_model_and_agrees_with_the_model(self):
		train()
		lead = make_lead(source="Referral", email_id="buyer@example.com")
		make_activity("Lead", lead.name, channel="WhatsApp", direction="Inbound", activity_at=now_datetime())
		settings = frappe.get_single(SETTINGS)
		model = stored_model(settings)

		score_leads([lead.name])

		stored = json.loads(settings.model_weights)
		self.assertEqual(stored["version"], settings.model_version)
		self.assertEqual(load_context().scorer, LinearScorer.from_dict(stored))
		context = load_context()
		row = frappe.get_all("Lead", {"name": lead.name}, context.lead_fields())[0]
		features = feature_row(row, load_touches([lead.name])[lead.name], now_datetime(), context.features)
		expected = stored_probability(predict_probabilities(model, [features])[0])
		actual = frappe.db.get_value("Lead", lead.name, "conversion_probability")
		self.assertGreater(actual, 0)
		self.assertAlmostEqual(actual, expected, delta=0.1001)  # each rounded to 0.1%, a moment apart

	def test_probabilities_are_stored_to_a_tenth_of_a_percent_and_never_as_zero(self):
		self.assertEqual(stored_probability(0.123456), 12.3)
		self.assertEqual(stored_probability(0.98765), 98.8)
		self.assertEqual(stored_probability(1e-7), 0.1)  # 0 stands for "no model"
		self.assertEqual(stored_probability(None), 0.0)

	def test_a_model_stored_without_its_weights_is_scored_from_the_model_itself(self):
		train()
		expected = load_context().scorer
		frappe.db.set_single_value(SETTINGS, "model_weights", None)
		frappe.clear_document_cache(SETTINGS, SETTINGS)

		self.assertEqual(load_context().scorer, expected)
		self.assertEqual(expected, linear_scorer(stored_model(frappe.get_single(SETTINGS))))

	def test_the_patch_stores_the_weights_of_a_model_trained_before_them_once(self):
		train()
		expected = frappe.db.get_single_value(SETTINGS, "model_weights")
		frappe.db.set_single_value(SETTINGS, "model_weights", None)
		frappe.clear_document_cache(SETTINGS, SETTINGS)

		store_lead_model_weights.execute()
		stored = frappe.db.get_single_value(SETTINGS, "model_weights")
		store_lead_model_weights.execute()

		self.assertEqual(json.loads(stored), json.loads(expected))
		self.assertEqual(frappe.db.get_single_value(SETTINGS, "model_weights"), stored)

	def test_too_few_decided_leads_fall_back_to_rules_alone(self):
		frappe.db.set_single_value(SETTINGS, "min_leads_per_class", 100000)
		try:
			summary = train()
		finally:
			frappe.db.set_single_value(SETTINGS, "min_leads_per_class", 40)

		self.assertEqual(summary["status"], "Not Enough Data")
		self.assertIn("100000", summary["message"])
		lead = make_lead(source="Referral")
		score_leads([lead.name])
		self.assertEqual(frappe.db.get_value("Lead", lead.name, "conversion_probability"), 0)

	def test_activity_after_the_outcome_does_not_change_training(self):
		before = train()["auc"]
		for lead in frappe.get_all("Lead", {"status": "Do Not Contact", "source": "Cold Call"}, pluck="name"):
			make_activity("Lead", lead, channel="WhatsApp", direction="Inbound", activity_at=now_datetime())

		self.assertEqual(train()["auc"], before)
