"""Each exit reason on a real site, through the check the doc_events queue (run here as the worker would),
and business days across a holiday of the company's Holiday List."""

import frappe
from frappe.utils import add_days, get_datetime, getdate, now_datetime

from crm_extension.refresh_queue import pending
from crm_extension.sequences import exits, triggers
from crm_extension.sequences.enrollment import enroll
from crm_extension.sequences.tests.factories import make_sequence, open_all_hours
from crm_extension.tests.factories import default_company, make_lead, make_opportunity, unique
from crm_extension.tests.utils import CRMTestCase


def run_queued_exit_checks() -> int:
	return exits.check_documents(sorted(pending("sequence_exit")))


def exit_reason(enrollment: str) -> tuple:
	return frappe.db.get_value("CRM Sequence Enrollment", enrollment, ["status", "exit_reason"])


class TestSequenceExits(CRMTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		open_all_hours()
		self.sequence = make_sequence(
			[{"step_type": "Call Task", "task_text": "Call"}], exit_on_stage="Proposal/Price Quote"
		)

	def lead(self):
		return make_lead(email_id=f"{unique('x').replace(' ', '').lower()}@example.com")

	def test_a_meeting_booked_with_the_lead_ends_its_sequence(self):
		lead = self.lead()
		name = enroll(self.sequence, "Lead", lead.name)
		frappe.get_doc(
			{
				"doctype": "Event",
				"subject": "Demo",
				"starts_on": now_datetime(),
				"event_type": "Private",
				"event_participants": [{"reference_doctype": "Lead", "reference_docname": lead.name}],
			}
		).insert(ignore_permissions=True)
		run_queued_exit_checks()
		self.assertEqual(exit_reason(name), ("Exited", "Meeting"))

	def test_an_unsubscribe_of_the_leads_address_ends_its_sequence(self):
		lead = self.lead()
		name = enroll(self.sequence, "Lead", lead.name)
		frappe.get_doc(
			{"doctype": "Email Unsubscribe", "email": lead.email_id, "global_unsubscribe": 1}
		).insert(ignore_permissions=True)
		run_queued_exit_checks()
		self.assertEqual(exit_reason(name), ("Exited", "Unsubscribed"))

	def test_a_lost_deal_and_a_deal_past_the_exit_stage_end_their_sequences(self):
		lost = make_opportunity("Lead", self.lead().name)
		moved = make_opportunity("Lead", self.lead().name)
		lost_enrollment = enroll(self.sequence, "Opportunity", lost.name)
		moved_enrollment = enroll(self.sequence, "Opportunity", moved.name)
		frappe.db.set_value("Opportunity", lost.name, "status", "Lost")
		frappe.db.set_value("Opportunity", moved.name, "sales_stage", "Negotiation/Review")
		# what the worker runs for the check the Opportunity's save queued
		exits.check_document("Opportunity", lost.name)
		exits.check_document("Opportunity", moved.name)
		self.assertEqual(exit_reason(lost_enrollment), ("Exited", "Lost"))
		self.assertEqual(exit_reason(moved_enrollment), ("Exited", "Stage Passed"))

	def test_a_won_deal_and_a_converted_lead_end_their_sequences(self):
		won = make_opportunity("Lead", self.lead().name)
		won_enrollment = enroll(self.sequence, "Opportunity", won.name)
		frappe.db.set_value("Opportunity", won.name, "status", "Converted")
		exits.check_document("Opportunity", won.name)
		lead = self.lead()
		lead_enrollment = enroll(self.sequence, "Lead", lead.name)
		frappe.db.set_value("Lead", lead.name, "status", "Converted")
		exits.check_document("Lead", lead.name)
		self.assertEqual(exit_reason(won_enrollment), ("Exited", "Won"))
		self.assertEqual(exit_reason(lead_enrollment), ("Exited", "Converted"))

	def test_a_bounced_sequence_email_ends_the_sequence_before_its_next_step(self):
		from crm_extension.sequences import execute
		from crm_extension.sequences.parties import load_party
		from crm_extension.sequences.tests.factories import email_template, make_due, outgoing_email_account

		outgoing_email_account()
		sequence = make_sequence(
			[
				{"step_type": "Automatic Email", "email_template": email_template()},
				{"step_type": "Call Task", "task_text": "Call", "delay_days": 1},
			]
		)
		lead = self.lead()
		name = enroll(sequence, "Lead", lead.name)
		make_due(name)
		execute.execute_chunk([name])
		communication = frappe.db.get_value("CRM Sequence Step Run", {"enrollment": name}, "communication")
		frappe.db.set_value("Communication", communication, "delivery_status", "Bounced")
		make_due(name)
		chunk = execute.Chunk(now=now_datetime())
		self.assertEqual(execute.execute_enrollment(name, load_party("Lead", lead.name), chunk), "exited")
		self.assertEqual(exit_reason(name), ("Exited", "Bounced"))
		self.assertEqual(frappe.db.count("CRM Sequence Step Run", {"enrollment": name}), 1)

	def test_a_lead_reaching_a_grade_with_a_trigger_is_enrolled(self):
		graded = make_sequence(
			[{"step_type": "Call Task", "task_text": "Call"}],
			triggers=[{"trigger": "Lead Grade", "value": "A"}],
		)
		lead = self.lead()
		triggers.on_grades([(lead.name, "A")])
		self.assertTrue(
			frappe.db.exists("CRM Sequence Enrollment", {"sequence": graded, "reference_name": lead.name})
		)


class TestBusinessDays(CRMTestCase):
	def test_a_step_due_in_one_business_day_skips_the_holidays_of_the_companys_list(self):
		open_all_hours()
		today = getdate()
		holidays = frappe.get_doc(
			{
				"doctype": "Holiday List",
				"holiday_list_name": unique("Sequence Holidays"),
				"from_date": add_days(today, -1),
				"to_date": add_days(today, 30),
				"holidays": [
					{"holiday_date": add_days(today, n), "description": "Closed"} for n in (1, 2, 3)
				],
			}
		).insert(ignore_permissions=True)
		frappe.db.set_value("Company", default_company(), "default_holiday_list", holidays.name)
		frappe.clear_cache(doctype="Company")
		sequence = make_sequence([{"step_type": "Call Task", "task_text": "Call", "delay_days": 1}])
		name = enroll(sequence, "Lead", make_lead().name)
		due = get_datetime(frappe.db.get_value("CRM Sequence Enrollment", name, "next_step_at"))
		self.assertEqual(due.date(), add_days(today, 4))
