import json

import frappe
from frappe.utils import add_days, add_to_date, get_datetime, now_datetime

from crm_extension import refresh_queue
from crm_extension.api import lead_scoring as lead_scoring_api
from crm_extension.lead_scoring.jobs import open_lead_chunks
from crm_extension.lead_scoring.scoring import lead_rows, score_leads
from crm_extension.lead_scoring.tests.factories import clear_rules, lead_source, make_rule
from crm_extension.lead_scoring.touches import load_touches
from crm_extension.tests.factories import (
	make_activity,
	make_assignment_rule,
	make_lead,
	make_user,
	restrict_user_to,
)
from crm_extension.tests.utils import CRMTestCase


def stored(lead: str) -> frappe._dict:
	return frappe.db.get_value(
		"Lead",
		lead,
		["lead_score", "lead_grade", "conversion_probability", "score_breakdown", "score_updated_on"],
		as_dict=True,
	)


def assigned_to(lead: str) -> list[str]:
	return frappe.get_all(
		"ToDo",
		{"reference_type": "Lead", "reference_name": lead, "status": "Open"},
		pluck="allocated_to",
	)


class TestLeadScoringRules(CRMTestCase):
	def setUp(self):
		clear_rules()

	def test_rule_on_a_field_the_lead_lacks_is_refused(self):
		with self.assertRaises(frappe.ValidationError) as raised:
			make_rule(rule_type="Fit", field="favourite_colour", operator="equals", value="red")
		self.assertIn("favourite_colour", str(raised.exception))

	def test_between_on_a_text_field_is_refused(self):
		with self.assertRaises(frappe.ValidationError):
			make_rule(rule_type="Fit", field="company_name", operator="between", value="1", value_to="5")

	def test_engagement_rule_with_a_negative_half_life_is_refused(self):
		with self.assertRaises(frappe.ValidationError):
			make_rule(rule_type="Engagement", channel="WhatsApp", half_life_days=-3)

	def test_fit_and_engagement_rules_set_score_grade_and_breakdown(self):
		referral = lead_source("Referral")
		make_rule(
			label="Came by referral",
			rule_type="Fit",
			field="source",
			operator="equals",
			value=referral,
			points=30,
		)
		make_rule(
			label="Replied on WhatsApp",
			rule_type="Engagement",
			channel="WhatsApp",
			direction="Inbound",
			points=25,
			half_life_days=10,
		)
		lead = make_lead(source=referral)
		replied_at = add_to_date(now_datetime(), seconds=-2).replace(microsecond=654321)
		make_activity("Lead", lead.name, channel="WhatsApp", direction="Inbound", activity_at=replied_at)

		score_leads([lead.name])

		values = stored(lead.name)
		self.assertAlmostEqual(values.lead_score, 55, delta=0.5)
		self.assertEqual(values.lead_grade, "B")  # no model: graded on the rule score, B from 45 to 70
		breakdown = {item["rule"]: item for item in json.loads(values.score_breakdown)}
		# a fit rule gave points, nothing else to say; an engagement rule names its items and the newest
		self.assertEqual(breakdown["Came by referral"], {"rule": "Came by referral", "points": 30})
		self.assertAlmostEqual(breakdown["Replied on WhatsApp"].pop("points"), 25, delta=0.5)
		self.assertEqual(
			breakdown["Replied on WhatsApp"],
			{"rule": "Replied on WhatsApp", "items": 1, "latest_at": str(replied_at.replace(microsecond=0))},
		)
		self.assertEqual(values.conversion_probability, 0)  # no model yet

	def test_the_breakdown_is_compact_json_for_any_label(self):
		label = 'مشتری "ویژه"'  # Persian, with quotes: JSON escapes both
		make_rule(label=label, rule_type="Fit", field="source", operator="is set", points=12.5)
		lead = make_lead(source=lead_source("Referral"))

		score_leads([lead.name])

		expected = json.dumps([{"rule": label, "points": 12.5}], separators=(",", ":"))
		self.assertEqual(stored(lead.name).score_breakdown, expected)

	def test_engagement_points_decay_with_the_activity_age(self):
		make_rule(
			label="Any reply", rule_type="Engagement", direction="Inbound", points=40, half_life_days=10
		)
		fresh, stale = make_lead(), make_lead()
		make_activity("Lead", fresh.name, channel="SMS", direction="Inbound", activity_at=now_datetime())
		make_activity(
			"Lead", stale.name, channel="SMS", direction="Inbound", activity_at=add_days(now_datetime(), -10)
		)

		score_leads([fresh.name, stale.name])

		self.assertAlmostEqual(stored(fresh.name).lead_score, 40, delta=0.5)
		self.assertAlmostEqual(stored(stale.name).lead_score, 20, delta=0.5)

	def test_email_on_the_leads_contact_counts_as_engagement(self):
		make_rule(
			label="Wrote to us", rule_type="Engagement", channel="Email", direction="Inbound", points=15
		)
		lead = make_lead()
		contact = frappe.get_doc({"doctype": "Contact", "first_name": "Ali"})
		contact.append("links", {"link_doctype": "Lead", "link_name": lead.name})
		contact.insert(ignore_permissions=True)
		frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": "Email",
				"sent_or_received": "Received",
				"subject": "Interested",
				"reference_doctype": "Contact",
				"reference_name": contact.name,
			}
		).insert(ignore_permissions=True)

		score_leads([lead.name])

		self.assertEqual(stored(lead.name).lead_score, 15)

	def test_the_feed_read_for_scoring_has_each_items_exact_time_channel_direction_and_outcome(self):
		lead = make_lead()
		activity_at = get_datetime("2025-03-04 05:06:07.891011")
		make_activity(
			"Lead",
			lead.name,
			channel="WhatsApp",
			direction="Inbound",
			outcome="Replied",
			activity_at=activity_at,
		)
		email = frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": "Email",
				"sent_or_received": "Sent",
				"subject": "Our offer",
				"communication_date": get_datetime("2025-03-05 10:00:00.000001"),
				"reference_doctype": "Lead",
				"reference_name": lead.name,
			}
		).insert(ignore_permissions=True)

		items = sorted(load_touches([lead.name])[lead.name], key=lambda item: item["at"])

		self.assertEqual(
			[(item["at"], item["channel"], item["direction"], item["outcome"]) for item in items],
			[
				(activity_at, "WhatsApp", "Inbound", "Replied"),
				(email.communication_date, "Email", "Outbound", None),
			],
		)

	def test_inactivity_rule_lowers_a_silent_lead_and_score_stays_within_0_and_100(self):
		make_rule(label="Fit", rule_type="Fit", field="lead_name", operator="is set", points=30)
		make_rule(label="Silent for a week", rule_type="Inactivity", inactive_days=7, points=-50)
		lead = make_lead()
		frappe.db.set_value(
			"Lead", lead.name, "creation", add_days(now_datetime(), -20), update_modified=False
		)

		score_leads([lead.name])

		self.assertEqual(stored(lead.name).lead_score, 0)

	def test_only_changes_that_matter_join_the_trend(self):
		make_rule(label="Any reply", rule_type="Engagement", direction="Inbound", points=30)
		make_rule(label="Calls out", rule_type="Engagement", direction="Outbound", points=4)
		lead = make_lead()
		day = add_days(now_datetime(), -3)
		score_leads([lead.name], day)
		make_activity("Lead", lead.name, direction="Outbound", activity_at=day)
		score_leads([lead.name], add_days(day, 1))  # 4 points: stored, too small for the trend
		make_activity("Lead", lead.name, channel="SMS", direction="Inbound", activity_at=add_days(day, 1))
		score_leads([lead.name], add_days(day, 2))

		trend = lead_scoring_api.trend(lead.name)
		self.assertEqual(
			[(point.score, point.scored_on) for point in trend], [(0, day), (34, add_days(day, 2))]
		)
		self.assertEqual(stored(lead.name).lead_score, 34)

	def test_a_leads_first_score_starts_its_trend_without_a_log_row(self):
		make_rule(label="Fit", rule_type="Fit", field="lead_name", operator="is set", points=30)
		lead = make_lead()

		score_leads([lead.name])

		self.assertEqual([point.score for point in lead_scoring_api.trend(lead.name)], [30])
		self.assertFalse(frappe.db.exists("Lead Score Log", {"lead": lead.name}))

	def test_a_lead_whose_score_did_not_change_is_not_written_again(self):
		make_rule(label="Fit", rule_type="Fit", field="lead_name", operator="is set", points=30)
		quiet, busy = make_lead(), make_lead()
		first, second = add_days(now_datetime(), -2), add_days(now_datetime(), -1)
		score_leads([quiet.name, busy.name], first)
		make_activity("Lead", busy.name, direction="Inbound", activity_at=first)
		make_rule(label="Replies", rule_type="Engagement", direction="Inbound", points=5, half_life_days=1)

		score_leads([quiet.name, busy.name], second)

		self.assertEqual(stored(quiet.name).score_updated_on, first)
		self.assertEqual((stored(busy.name).score_updated_on, stored(busy.name).lead_score), (second, 32.5))

	def test_saving_a_lead_queues_its_scoring_instead_of_scoring_inline(self):
		make_rule(label="Fit", rule_type="Fit", field="lead_name", operator="is set", points=30)
		lead = make_lead()

		lead.company_name = "Pars Trading"
		lead.save(ignore_permissions=True)

		self.assertIn(("Lead", lead.name), refresh_queue.pending("lead_score"))
		self.assertIsNone(stored(lead.name).score_updated_on)

	def test_new_lead_reaching_grade_a_notifies_its_owner(self):
		owner = make_user(["Sales User"])
		make_rule(label="Big fit", rule_type="Fit", field="lead_name", operator="is set", points=80)
		lead = make_lead(lead_owner=owner)

		score_leads([lead.name])

		self.assertEqual(stored(lead.name).lead_grade, "A")
		self.assertTrue(frappe.db.exists("Notification Log", {"for_user": owner, "document_name": lead.name}))

	def test_leads_reaching_grade_a_together_notify_each_owner(self):
		first_owner, second_owner = make_user(["Sales User"]), make_user(["Sales User"])
		make_rule(label="Big fit", rule_type="Fit", field="lead_name", operator="is set", points=80)
		first, second = make_lead(lead_owner=first_owner), make_lead(lead_owner=second_owner)
		unowned = make_lead()  # created by Administrator, no Lead Owner: nobody to tell

		score_leads([first.name, second.name, unowned.name])

		notified = frappe.get_all(
			"Notification Log",
			{"document_type": "Lead", "document_name": ("in", [first.name, second.name, unowned.name])},
			["document_name", "for_user"],
		)
		self.assertCountEqual(
			[(row.document_name, row.for_user) for row in notified],
			[(first.name, first_owner), (second.name, second_owner)],
		)

	def test_lead_reaching_grade_a_goes_to_an_assignment_rule_on_its_grade(self):
		closer = make_user(["Sales User"])
		rule = make_assignment_rule("Lead", 'lead_grade == "A"', [closer])
		self.addCleanup(
			frappe.delete_doc, "Assignment Rule", rule, force=True
		)  # also clears the rules' cache
		make_rule(label="Big fit", rule_type="Fit", field="company_name", operator="is set", points=80)
		hot, cold = make_lead(company_name="Pars Trading"), make_lead()

		score_leads([hot.name, cold.name])

		self.assertEqual(assigned_to(hot.name), [closer])
		self.assertEqual(assigned_to(cold.name), [])

	def test_lead_rows_hold_each_kind_of_field_as_the_driver_reads_it(self):
		lead = make_lead(
			company_name='شرکت "پارس", Tabriz',
			annual_revenue=1250000.5,
			no_of_employees="51-200",
			unsubscribed=1,
			qualified_on="2026-03-21",
		)
		frappe.db.set_value(
			"Lead",
			lead.name,
			{"trend_since": "2026-11-01 09:30:00.250000", "score_breakdown": '[{"rule":"مشتری \\"ویژه\\""}]'},
			update_modified=False,
		)
		fields = [
			*("name", "lead_name", "company_name", "email_id", "no_of_employees", "annual_revenue"),
			*("unsubscribed", "qualified_on", "creation", "modified", "trend_since", "score_breakdown"),
			"lead_score",
		]

		(row,) = lead_rows([lead.name], fields)

		expected = frappe.db.get_value("Lead", lead.name, fields, as_dict=True)
		self.assertEqual(row, expected)
		self.assertEqual(
			{field: type(value) for field, value in row.items()}, {f: type(v) for f, v in expected.items()}
		)

	def test_nightly_chunks_skip_decided_leads(self):
		lead, converted, without_status = make_lead(), make_lead(), make_lead()
		frappe.db.set_value("Lead", converted.name, "status", "Converted")
		frappe.db.sql("update `tabLead` set status = null where name = %s", without_status.name)

		names = [name for chunk in open_lead_chunks(chunk_size=50) for name in chunk]

		self.assertIn(lead.name, names)
		self.assertIn(without_status.name, names)  # an imported Lead may have no status: it is open
		self.assertNotIn(converted.name, names)


class TestLeadScoringAPI(CRMTestCase):
	def setUp(self):
		clear_rules()
		make_rule(label="Has a company", rule_type="Fit", field="company_name", operator="is set", points=20)
		self.lead = make_lead(company_name="Karimi Trading")
		score_leads([self.lead.name])

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_explain_lists_the_rule_points(self):
		explanation = lead_scoring_api.explain(self.lead.name)

		self.assertEqual(explanation["lead_score"], 20)
		self.assertEqual(
			explanation["factors"], [{"label": "Has a company", "points": 20, "text": "+20 Has a company"}]
		)
		self.assertIsNone(explanation["model"])

	def test_explain_says_when_the_newest_item_of_an_engagement_rule_was(self):
		make_rule(
			label="Any reply", rule_type="Engagement", direction="Inbound", points=30, half_life_days=10
		)
		# a time typed in the desk has no microseconds; the breakdown keeps whole seconds either way
		replied_at = add_days(now_datetime(), -2).replace(microsecond=0)
		make_activity("Lead", self.lead.name, channel="SMS", direction="Inbound", activity_at=replied_at)
		score_leads([self.lead.name])

		factors = {factor["label"]: factor for factor in lead_scoring_api.explain(self.lead.name)["factors"]}

		self.assertEqual(
			factors["Any reply"]["text"], f"+{factors['Any reply']['points']:g} Any reply (2 days ago)"
		)

	def test_user_who_cannot_read_the_lead_gets_no_explanation(self):
		frappe.set_user(make_user(["Accounts User"]))
		with self.assertRaises(frappe.PermissionError):
			lead_scoring_api.explain(self.lead.name)
		with self.assertRaises(frappe.PermissionError):
			lead_scoring_api.trend(self.lead.name)

	def test_hot_leads_are_the_users_own_best_leads(self):
		seller, other_seller = make_user(["Sales User"]), make_user(["Sales User"])
		restrict_user_to(seller, "User", seller, only_on="Lead")
		mine = make_lead(lead_owner=seller, company_name="Mine Co")
		theirs = make_lead(lead_owner=other_seller, company_name="Theirs Co")
		make_activity("Lead", mine.name, channel="WhatsApp", direction="Inbound", activity_at=now_datetime())
		score_leads([mine.name, theirs.name])

		frappe.set_user(seller)
		leads = lead_scoring_api.hot_leads(limit=10)

		self.assertEqual([lead.name for lead in leads], [mine.name])
		self.assertEqual(leads[0].lead_score, 20)
		self.assertIsNotNone(leads[0].last_activity_at)

	def test_sales_user_cannot_train_the_model(self):
		frappe.set_user(make_user(["Sales User"]))
		with self.assertRaises(frappe.PermissionError):
			lead_scoring_api.train()
