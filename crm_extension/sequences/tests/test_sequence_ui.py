"""The "Due today" report (Sequence Tasks Due): a salesperson's open ToDos that sequence steps created, due today
or earlier, with the party, the step type and the task's text; and the CRM Hub's Sequences section."""

import json

import frappe
from frappe.utils import add_days, nowdate

from crm_extension.sequences import execute
from crm_extension.sequences.enrollment import enroll
from crm_extension.sequences.report.sequence_tasks_due import sequence_tasks_due as report
from crm_extension.sequences.tests.factories import make_due, make_sequence, open_all_hours
from crm_extension.tests.factories import make_lead, make_user
from crm_extension.tests.utils import CRMTestCase


class TestSequenceTasksDue(CRMTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		open_all_hours()
		self.user = make_user(["Sales User"])
		self.sequence = make_sequence(
			[
				{"step_type": "Call Task", "task_text": "Ask about the budget"},
				{"step_type": "Visit Task", "task_text": "Bring the samples", "delay_days": 2},
			]
		)

	def tearDown(self):
		frappe.set_user("Administrator")

	def executed_step(self, lead_name: str) -> str:
		name = enroll(self.sequence, "Lead", lead_name, sender=self.user)
		make_due(name)
		execute.execute_chunk([name])
		return name

	def rows(self, due_by=None):
		frappe.set_user(self.user)
		try:
			return report.execute({"due_by": due_by or nowdate()})[1]
		finally:
			frappe.set_user("Administrator")

	def test_a_call_step_is_due_today_with_its_party_step_type_and_text_but_not_the_heading(self):
		lead = make_lead(lead_owner=self.user)
		self.executed_step(lead.name)
		rows = [row for row in self.rows() if row.reference_name == lead.name]
		self.assertEqual(len(rows), 1)
		row = rows[0]
		self.assertEqual(
			(row.reference_doctype, row.party_title, row.step_type, row.task, row.sequence),
			("Lead", lead.lead_name, "Call Task", "Ask about the budget", self.sequence),
		)
		self.assertTrue(frappe.db.exists("ToDo", {"name": row.todo, "allocated_to": self.user}))

	def test_closed_tasks_later_tasks_other_users_tasks_and_plain_todos_are_not_due(self):
		lead = make_lead(lead_owner=self.user)
		self.executed_step(lead.name)
		todo = frappe.db.get_value("CRM Sequence Step Run", {"reference_name": lead.name}, "todo")
		plain = frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": self.user,
				"description": "Not from a sequence",
				"date": nowdate(),
			}
		).insert(ignore_permissions=True)
		self.assertNotIn(plain.name, [row.todo for row in self.rows()])
		frappe.db.set_value("ToDo", todo, "date", add_days(nowdate(), 1))
		self.assertNotIn(todo, [row.todo for row in self.rows()])
		self.assertIn(todo, [row.todo for row in self.rows(due_by=add_days(nowdate(), 1))])
		frappe.db.set_value("ToDo", todo, {"date": nowdate(), "status": "Closed"})
		self.assertNotIn(todo, [row.todo for row in self.rows()])
		frappe.db.set_value("ToDo", todo, {"status": "Open", "allocated_to": "Administrator"})
		self.assertNotIn(todo, [row.todo for row in self.rows()])
		frappe.set_user("Administrator")
		self.assertIn(todo, [row.todo for row in report.execute({"due_by": nowdate()})[1]])

	def test_the_task_text_drops_the_step_heading_and_tags_but_stays_escaped_for_the_report(self):
		description = "<p><b>Call Task (sequence S, step 1)</b></p><p>Ask &amp; listen<br>then note</p>"
		self.assertEqual(report.task_text(description), "Ask &amp; listen then note")
		self.assertEqual(report.task_text(None), "")

	def test_a_failed_steps_task_keeps_the_heading_that_says_to_do_it_by_hand(self):
		description = "<p><b>Step 1 of sequence S could not run: do it by hand</b></p><p>No email account</p>"
		self.assertEqual(
			report.task_text(description, keep_heading=True),
			"Step 1 of sequence S could not run: do it by hand: No email account",
		)


class TestCRMHubSequences(CRMTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_a_sales_user_sees_due_today_and_the_active_enrollments_in_the_crm_hub(self):
		from frappe.desk.desktop import get_desktop_page

		frappe.set_user(make_user(["Sales User"]))
		page = get_desktop_page(json.dumps({"name": "CRM Hub", "title": "CRM Hub", "public": 1}))
		shortcuts = {item.label: item for item in page["shortcuts"]["items"]}
		self.assertEqual(shortcuts["Due Today"].link_to, "Sequence Tasks Due")
		self.assertEqual(json.loads(shortcuts["Active Enrollments"].stats_filter), {"status": "Active"})
		cards = {card.label: [link.label for link in card.links] for card in page["cards"]["items"]}
		self.assertIn("Sequence Tasks Due", cards["Sequences"])
