"""The "Sequence Performance" report and the sequence form's numbers, from real enrollments whose steps ran
through the scheduler's executor: emails queued by the host, opened through its read tracking, clicked
through the signed redirect, and replies that ended the enrollment."""

from urllib.parse import parse_qs, urlparse

import frappe
from frappe.core.doctype.communication.email import update_communication_as_read
from frappe.utils import add_days, add_to_date, now_datetime, today

from crm_extension.api import sequence as api
from crm_extension.refresh_queue import pending
from crm_extension.sequences import exits
from crm_extension.sequences.enrollment import enroll
from crm_extension.sequences.report.sequence_performance import sequence_performance as report
from crm_extension.sequences.tests.factories import (
	email_template,
	make_sequence,
	open_all_hours,
	outgoing_email_account,
)
from crm_extension.sequences.tests.test_sequences import lead_with_email, run_due
from crm_extension.tests.factories import make_user
from crm_extension.tests.utils import CRMTestCase


def click_first_link(communication: str):
	content = frappe.db.get_value("Communication", communication, "content")
	token = parse_qs(urlparse(content.split('href="')[1].split('"')[0]).query)["t"][0]
	api.click(token)
	frappe.local.response = frappe._dict()


def reply_from(lead) -> None:
	frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Received",
			"sender": lead.email_id,
			"reference_doctype": "Lead",
			"reference_name": lead.name,
			"subject": "Re: Hello",
			"content": "<p>Interested, call me</p>",
		}
	).insert(ignore_permissions=True)
	exits.check_documents(sorted(pending("sequence_exit")))


def rows_by_label(rows: list[dict]) -> dict[str, dict]:
	return {row["label"]: row for row in rows}


class TestSequencePerformance(CRMTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		outgoing_email_account()
		open_all_hours()
		self.sequence = make_sequence(
			[
				{
					"step_type": "Automatic Email",
					"email_template": email_template(),
					"variant_b_template": email_template(subject="A question, {{ lead_name }}"),
				},
				{"step_type": "Call Task", "task_text": "Call", "delay_days": 1},
			]
		)
		# four leads get the first email; one opens it, one clicks, one replies; one more gets the call, the last step, and finishes
		self.leads = [lead_with_email() for _ in range(4)]
		self.enrollments = [enroll(self.sequence, "Lead", lead.name) for lead in self.leads]
		for name in self.enrollments:
			run_due(name)
		self.emails = [
			frappe.db.get_value("CRM Sequence Step Run", {"enrollment": name, "step_idx": 1}, "communication")
			for name in self.enrollments
		]
		update_communication_as_read(self.emails[0])
		click_first_link(self.emails[1])
		reply_from(self.leads[0])
		run_due(self.enrollments[3])  # the call task

	def test_the_report_counts_enrollments_emails_opens_clicks_and_replies_per_sequence_and_step(self):
		columns, rows, _message, chart = report.execute({"sequence": self.sequence})[:4]
		self.assertIn("exit_replied", [column["fieldname"] for column in columns])
		by_label = rows_by_label(rows)
		totals = by_label[self.sequence]
		self.assertEqual(
			[
				totals[key]
				for key in (
					"enrolled",
					"active",
					"finished",
					"exit_replied",
					"emails_sent",
					"opened",
					"clicked",
				)
			],
			[4, 2, 1, 1, 4, 1, 1],
		)
		self.assertEqual((totals["replied"], totals["reply_rate"]), (1, 25.0))
		first = by_label["Step 1: Automatic Email"]
		self.assertEqual((first["executed"], first["replied"], first["reply_rate"]), (4, 1, 25.0))
		self.assertTrue(first["significance"])
		second = by_label["Step 2: Call Task"]
		self.assertEqual((second["executed"], second["emails_sent"], second["replied"]), (1, 0, 0))
		self.assertEqual(by_label["Channel: Voice"]["executed"], 1)
		self.assertEqual(by_label["Channel: Email"]["reply_rate"], 25.0)
		self.assertEqual(chart["data"]["datasets"][0]["values"], [25.0, 0])

	def test_each_variant_of_an_email_step_has_its_rows_with_an_interval(self):
		rows = report.execute({"sequence": self.sequence})[1]
		variants = [row for row in rows if row["indent"] == 2]
		variant_of = dict(
			frappe.get_all(
				"CRM Sequence Step Run",
				filters={"enrollment": ("in", self.enrollments), "step_idx": 1},
				fields=["enrollment", "variant"],
				as_list=True,
			)
		)
		expected = sorted(set(variant_of.values()))
		self.assertEqual([row["label"] for row in variants], [f"Variant {v}" for v in expected])
		self.assertEqual(sum(row["executed"] for row in variants), 4)
		self.assertTrue(all("%" in row["interval"] for row in variants))
		replied_variant = variant_of[self.enrollments[0]]
		self.assertEqual(rows_by_label(variants)[f"Variant {replied_variant}"]["replied"], 1)

	def test_the_date_range_keeps_the_enrollments_enrolled_in_it(self):
		frappe.db.set_value(
			"CRM Sequence Enrollment",
			self.enrollments[3],
			"enrolled_on",
			add_to_date(now_datetime(), days=-40),
		)
		recent = rows_by_label(
			report.execute(
				{"sequence": self.sequence, "from_date": add_days(today(), -7), "to_date": today()}
			)[1]
		)
		self.assertEqual(recent[self.sequence]["enrolled"], 3)
		self.assertEqual(recent["Step 2: Call Task"]["executed"], 0)
		older = rows_by_label(
			report.execute(
				{
					"sequence": self.sequence,
					"from_date": add_days(today(), -60),
					"to_date": add_days(today(), -30),
				}
			)[1]
		)
		self.assertEqual(older[self.sequence]["enrolled"], 1)

	def test_the_form_gets_the_same_numbers_for_a_sales_user_and_nothing_for_a_user_who_cannot_read(self):
		frappe.set_user(make_user(["Sales User"]))
		try:
			result = api.performance(self.sequence)
			self.assertEqual(result["performance"]["enrolled"], 4)
			self.assertEqual(result["performance"]["steps"][0]["replied"], 1)
			self.assertTrue(result["performance"]["steps"][0]["ab"]["message"])
			self.assertEqual(len(result["chart"]["data"]["labels"]), 2)
			frappe.set_user(make_user(["Blogger"]))
			with self.assertRaises(frappe.PermissionError):
				api.performance(self.sequence)
		finally:
			frappe.set_user("Administrator")
