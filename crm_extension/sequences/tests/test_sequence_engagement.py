"""Opens and clicks of sequence emails where salespeople look: badges on the unified timeline, and lead
scoring rules that count clicks like they count activities."""

import frappe
from frappe.core.doctype.communication.email import update_communication_as_read
from frappe.utils import add_days, now_datetime

from crm_extension.api import activity as activity_api
from crm_extension.lead_scoring.scoring import score_leads
from crm_extension.lead_scoring.tests.factories import clear_rules, make_rule
from crm_extension.refresh_queue import pending
from crm_extension.sequences.enrollment import enroll
from crm_extension.sequences.tests.factories import (
	email_template,
	make_sequence,
	open_all_hours,
	outgoing_email_account,
)
from crm_extension.sequences.tests.test_sequence_performance import click_first_link
from crm_extension.sequences.tests.test_sequences import lead_with_email, run_due
from crm_extension.tests.factories import make_activity
from crm_extension.tests.utils import CRMTestCase


class TestSequenceEngagement(CRMTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		outgoing_email_account()
		open_all_hours()
		self.sequence = make_sequence(
			[
				{"step_type": "Automatic Email", "email_template": email_template()},
				{"step_type": "Call Task", "task_text": "Call", "delay_days": 2},
			]
		)

	def sent_email(self, lead) -> str:
		run_due(enroll(self.sequence, "Lead", lead.name))
		return frappe.db.get_value("Communication", {"reference_name": lead.name}, "name")

	def timeline_row(self, lead, communication: str) -> dict:
		items = activity_api.timeline("Lead", lead.name, page_length=50)
		return next(item for item in items if item["source_name"] == communication)

	def test_a_sequence_email_row_shows_opened_then_clicked_on_the_timeline(self):
		lead = lead_with_email()
		email = self.sent_email(lead)
		self.assertEqual(self.timeline_row(lead, email)["engagement"], [])
		click_first_link(email)
		self.assertEqual(self.timeline_row(lead, email)["engagement"], ["Clicked"])
		# the host's pixel sets delivery_status "Read" over the click: the step run keeps the click
		update_communication_as_read(email)
		self.assertEqual(self.timeline_row(lead, email)["engagement"], ["Opened", "Clicked"])

	def test_a_rule_on_clicks_in_sequence_emails_fires_after_a_click_only(self):
		clear_rules()
		make_rule(
			label="Clicked a sequence link in the last 14 days",
			rule_type="Engagement",
			channel="Email",
			outcome="Clicked",
			points=30,
			half_life_days=None,
			within_days=14,
		)
		clicked, silent = lead_with_email(), lead_with_email()
		click_first_link(self.sent_email(clicked))
		self.sent_email(silent)
		score_leads([clicked.name, silent.name])
		self.assertEqual(frappe.db.get_value("Lead", clicked.name, "lead_score"), 30)
		self.assertEqual(frappe.db.get_value("Lead", silent.name, "lead_score"), 0)

	def test_a_click_older_than_the_rules_window_does_not_count(self):
		clear_rules()
		make_rule(rule_type="Engagement", outcome="Clicked", points=30, half_life_days=None, within_days=14)
		lead = lead_with_email()
		click_first_link(self.sent_email(lead))
		frappe.db.set_value(
			"CRM Sequence Step Run",
			{"reference_name": lead.name},
			"clicked_on",
			add_days(now_datetime(), -20),
		)
		score_leads([lead.name])
		self.assertEqual(frappe.db.get_value("Lead", lead.name, "lead_score"), 0)

	def test_a_click_is_not_an_inbound_reply_for_rules_on_replies(self):
		clear_rules()
		make_rule(rule_type="Engagement", channel="Email", direction="Inbound", points=15)
		lead = lead_with_email()
		click_first_link(self.sent_email(lead))
		score_leads([lead.name])
		self.assertEqual(frappe.db.get_value("Lead", lead.name, "lead_score"), 0)

	def test_a_rules_window_counts_only_recent_activities_when_the_database_tallies_them(self):
		clear_rules()
		make_rule(rule_type="Engagement", direction="Inbound", points=20, half_life_days=None, within_days=7)
		recent, old = lead_with_email(), lead_with_email()
		make_activity(
			"Lead", recent.name, channel="SMS", direction="Inbound", activity_at=add_days(now_datetime(), -2)
		)
		make_activity(
			"Lead", old.name, channel="SMS", direction="Inbound", activity_at=add_days(now_datetime(), -10)
		)
		score_leads([recent.name, old.name])
		self.assertEqual(frappe.db.get_value("Lead", recent.name, "lead_score"), 20)
		self.assertEqual(frappe.db.get_value("Lead", old.name, "lead_score"), 0)

	def test_a_click_asks_its_get_request_to_commit_and_queues_the_leads_rescore(self):
		lead = lead_with_email()
		email = self.sent_email(lead)
		frappe.local.flags.commit = False
		try:
			click_first_link(email)
			# without it Frappe rolls a GET request back (frappe.app.sync_database): the click would be lost
			self.assertTrue(frappe.local.flags.commit)
			self.assertIn(("Lead", lead.name), pending("lead_score"))
		finally:
			frappe.local.flags.commit = False
