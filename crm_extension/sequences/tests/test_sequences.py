"""Sequences on a real ERPNext site: enrollment, exactly-once steps through the host's email queue, exits on
any channel, the sending window and limits, click tracking, and the API's permission checks."""

import itertools
from urllib.parse import parse_qs, urlparse

import frappe
from frappe.utils import add_to_date, get_datetime, now_datetime

from crm_extension.api import sequence as api
from crm_extension.refresh_queue import pending
from crm_extension.sequences import dispatch, execute, exits
from crm_extension.sequences.enrollment import enroll
from crm_extension.sequences.parties import load_party
from crm_extension.sequences.tests.factories import (
	email_template,
	make_due,
	make_sequence,
	open_all_hours,
	outgoing_email_account,
)
from crm_extension.tests.factories import make_activity, make_lead, make_user, restrict_user_to, unique
from crm_extension.tests.utils import CRMTestCase


def run_due(enrollment: str):
	make_due(enrollment)
	execute.execute_chunk([enrollment])
	return frappe.get_doc("CRM Sequence Enrollment", enrollment)


def run_queued_exit_checks() -> int:
	"""What the worker does after commit: the documents this transaction queued for an exit check."""
	return exits.check_documents(sorted(pending("sequence_exit")))


def lead_with_email(**values):
	return make_lead(email_id=f"{unique('lead').lower().replace(' ', '.')}@example.com", **values)


class TestSequences(CRMTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		outgoing_email_account()
		open_all_hours()
		self.template = email_template()
		self.follow_up = email_template(subject="Following up, {{ lead_name }}")

	def two_emails(self, **values):
		return make_sequence(
			[
				{"step_type": "Automatic Email", "email_template": self.template},
				{"step_type": "Automatic Email", "email_template": self.follow_up, "delay_days": 2},
			],
			**values,
		)

	def test_enrolling_twice_returns_the_open_enrollment_and_flags_a_second_sequence(self):
		lead = lead_with_email()
		first, second = self.two_emails(), self.two_emails()
		name = enroll(first, "Lead", lead.name)
		self.assertEqual(enroll(first, "Lead", lead.name), name)
		self.assertEqual(frappe.db.count("CRM Sequence Enrollment", {"reference_name": lead.name}), 1)
		other = enroll(second, "Lead", lead.name)
		self.assertTrue(frappe.db.get_value("CRM Sequence Enrollment", other, "in_other_sequence"))
		flags = {row["name"]: row["in_other_sequence"] for row in api.status("Lead", lead.name)}
		self.assertEqual(flags, {name: 1, other: 1})
		api.unenroll(other, "Wrong sequence")
		flags = {row["name"]: row["in_other_sequence"] for row in api.status("Lead", lead.name)}
		self.assertEqual(flags, {name: 0, other: 0})

	def test_a_due_email_step_is_queued_by_the_host_from_the_sender_with_tracked_links_and_threaded(self):
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		enrollment = run_due(name)
		self.assertEqual(enrollment.next_step, 2)
		first = frappe.get_all(
			"Communication",
			filters={"reference_doctype": "Lead", "reference_name": lead.name},
			fields=["name", "subject", "content", "message_id", "sender", "owner"],
		)
		self.assertEqual(len(first), 1)
		self.assertEqual(first[0].owner, enrollment.sender)
		self.assertEqual(first[0].subject, f"Hello {lead.lead_name}")
		self.assertIn("crm_extension.api.sequence.click?t=", first[0].content)
		self.assertNotIn("https://example.com/offer", first[0].content)
		queue = frappe.get_all("Email Queue", filters={"communication": first[0].name}, fields=["message"])
		self.assertEqual(len(queue), 1)

		enrollment = run_due(name)
		self.assertEqual(enrollment.status, "Finished")
		self.assertEqual(enrollment.exit_reason, "Finished")
		second = frappe.get_all(
			"Communication",
			filters={"reference_name": lead.name, "name": ("!=", first[0].name)},
			pluck="name",
		)
		message = frappe.get_all("Email Queue", filters={"communication": second[0]}, pluck="message")[0]
		self.assertIn(f"In-Reply-To: <{first[0].message_id}>", message)

	def test_a_step_runs_once_when_two_chunks_carry_the_same_enrollment(self):
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		make_due(name)
		chunk = execute.Chunk(now=now_datetime())
		party = load_party("Lead", lead.name)
		self.assertEqual(execute.execute_enrollment(name, party, chunk), "Automatic Email")
		# a second worker with the same stale view of the enrollment: the step moved on, nothing happens
		frappe.db.set_value("CRM Sequence Enrollment", name, "next_step", 1)
		self.assertIsNone(execute.execute_enrollment(name, party, chunk))
		self.assertEqual(frappe.db.count("CRM Sequence Step Run", {"enrollment": name}), 1)
		self.assertEqual(frappe.db.count("Communication", {"reference_name": lead.name}), 1)

	def test_an_inbound_whatsapp_message_ends_the_sequence_and_the_queued_step_does_nothing(self):
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		make_due(name)
		make_activity("Lead", lead.name, channel="WhatsApp", direction="Inbound", subject="Yes, call me")
		self.assertEqual(frappe.db.get_value("CRM Sequence Enrollment", name, "status"), "Active")
		self.assertEqual(run_queued_exit_checks(), 1)
		enrollment = frappe.get_doc("CRM Sequence Enrollment", name)
		self.assertEqual((enrollment.status, enrollment.exit_reason), ("Exited", "Replied"))
		execute.execute_chunk([name])
		self.assertEqual(frappe.db.count("Communication", {"reference_name": lead.name}), 0)

	def test_an_out_of_office_reply_does_not_end_the_sequence_but_a_real_reply_does(self):
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		received = {
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Received",
			"sender": lead.email_id,
			"reference_doctype": "Lead",
			"reference_name": lead.name,
			"content": "<p>Thanks</p>",
		}
		frappe.get_doc({**received, "subject": "Automatic reply: Out of office"}).insert(
			ignore_permissions=True
		)
		self.assertEqual(run_queued_exit_checks(), 0)
		self.assertEqual(frappe.db.get_value("CRM Sequence Enrollment", name, "status"), "Active")
		frappe.get_doc({**received, "subject": "Re: Hello"}).insert(ignore_permissions=True)
		self.assertEqual(run_queued_exit_checks(), 1)
		self.assertEqual(
			frappe.db.get_value("CRM Sequence Enrollment", name, ["status", "exit_reason"]),
			("Exited", "Replied"),
		)

	def test_a_reply_a_hook_missed_is_found_before_the_next_step(self):
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		frappe.db.set_value(
			"CRM Sequence Enrollment", name, "enrolled_on", add_to_date(now_datetime(), hours=-1)
		)
		activity = make_activity("Lead", lead.name, channel="WhatsApp", direction="Outbound")
		# as if written by an import that ran no hooks: an inbound message
		frappe.db.set_value("CRM Activity", activity.name, "direction", "Inbound")
		enrollment = run_due(name)
		self.assertEqual((enrollment.status, enrollment.exit_reason), ("Exited", "Replied"))
		self.assertEqual(frappe.db.count("Communication", {"reference_name": lead.name}), 0)

	def test_converted_and_lost_end_the_sequence_with_their_reason(self):
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		lead.reload()
		lead.status = "Do Not Contact"
		lead.save(ignore_permissions=True)
		run_queued_exit_checks()
		self.assertEqual(
			frappe.db.get_value("CRM Sequence Enrollment", name, "exit_reason"), "Do Not Contact"
		)

	def test_outside_the_sending_window_the_step_waits_for_the_next_working_slot(self):
		settings = frappe.get_doc("CRM Sequence Settings")
		moment = now_datetime()
		start = add_to_date(moment, hours=2)
		if start.date() != moment.date():
			start = add_to_date(moment, hours=-3)  # near midnight: a window that closed earlier today
			end = add_to_date(moment, hours=-2)
		else:
			end = (
				add_to_date(moment, hours=3) if add_to_date(moment, hours=3).date() == moment.date() else None
			)
		settings.window_start = start.strftime("%H:%M:%S")
		settings.window_end = (end or moment.replace(hour=23, minute=59, second=0)).strftime("%H:%M:%S")
		settings.save(ignore_permissions=True)
		frappe.clear_document_cache("CRM Sequence Settings", "CRM Sequence Settings")
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		enrollment = run_due(name)
		self.assertEqual(enrollment.next_step, 1)
		self.assertGreater(get_datetime(enrollment.next_step_at), moment)
		self.assertEqual(get_datetime(enrollment.next_step_at).strftime("%H:%M:%S"), settings.window_start)
		self.assertTrue(enrollment.waiting_for)
		self.assertEqual(frappe.db.count("Communication", {"reference_name": lead.name}), 0)

	def test_the_daily_email_limit_holds_and_the_rest_wait_with_a_reason(self):
		frappe.db.set_single_value("CRM Sequence Settings", "emails_per_day", 2)
		frappe.clear_document_cache("CRM Sequence Settings", "CRM Sequence Settings")
		sequence, sender = self.two_emails(), make_user(["Sales User"])  # a sender with no sends yet
		names = [enroll(sequence, "Lead", lead_with_email().name, sender) for _ in range(3)]
		for name in names:
			make_due(name)
		execute.execute_chunk(names)
		sent = frappe.db.count("CRM Sequence Step Run", {"enrollment": ("in", names)})
		self.assertEqual(sent, 2)
		waiting = frappe.get_all(
			"CRM Sequence Enrollment",
			filters={"name": ("in", names), "next_step": 1},
			fields=["waiting_for", "next_step_at"],
		)
		self.assertEqual(len(waiting), 1)
		self.assertIn("limit", waiting[0].waiting_for)
		self.assertGreater(get_datetime(waiting[0].next_step_at), now_datetime())

	def test_a_salespersons_emails_are_spaced_by_the_minimum_gap(self):
		frappe.db.set_single_value("CRM Sequence Settings", "min_gap_seconds", 30)
		frappe.clear_document_cache("CRM Sequence Settings", "CRM Sequence Settings")
		sequence, sender = self.two_emails(), make_user(["Sales User"])  # a sender with no sends yet
		names = [enroll(sequence, "Lead", lead_with_email().name, sender) for _ in range(3)]
		for name in names:
			make_due(name)
		execute.execute_chunk(names)
		sends = frappe.get_all(
			"CRM Sequence Step Run",
			filters={"enrollment": ("in", names)},
			pluck="send_at",
			order_by="send_at",
		)
		self.assertEqual(len(sends), 3)
		gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(sends)]
		self.assertGreaterEqual(min(gaps), 30)
		queued = frappe.get_all(
			"Email Queue",
			filters={
				"reference_name": (
					"in",
					[frappe.db.get_value("CRM Sequence Enrollment", n, "reference_name") for n in names],
				)
			},
			pluck="send_after",
		)
		self.assertEqual(sorted(queued), sends)

	def test_a_click_is_recorded_once_and_a_tampered_link_records_nothing(self):
		lead = lead_with_email()
		name = enroll(self.two_emails(), "Lead", lead.name)
		run_due(name)
		content = frappe.db.get_value("Communication", {"reference_name": lead.name}, "content")
		token = parse_qs(urlparse(content.split('href="')[1].split('"')[0]).query)["t"][0]
		api.click(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
		self.assertEqual(frappe.local.response.get("http_status_code"), 404)
		self.assertFalse(frappe.db.get_value("CRM Sequence Step Run", {"enrollment": name}, "clicked_on"))
		frappe.local.response = frappe._dict()
		api.click(token)
		self.assertEqual(frappe.local.response.get("location"), "https://example.com/offer?x=1")
		self.assertTrue(frappe.db.get_value("CRM Sequence Step Run", {"enrollment": name}, "clicked_on"))
		self.assertEqual(
			frappe.db.get_value("Communication", {"reference_name": lead.name}, "delivery_status"), "Clicked"
		)

	def test_a_manual_step_is_the_senders_todo_and_a_preferred_channel_step_follows_the_party(self):
		sequence = make_sequence(
			[
				{"step_type": "Call Task", "task_text": "Ask about the budget"},
				{"step_type": "Automatic Email", "email_template": self.template, "on_preferred_channel": 1},
			]
		)
		lead = lead_with_email()
		voice = frappe.db.get_value("CRM Channel", {"channel_type": "Voice", "disabled": 0}, "name")
		frappe.db.set_value("Lead", lead.name, "preferred_channel", voice)
		name = enroll(sequence, "Lead", lead.name)
		run_due(name)
		todo = frappe.get_all(
			"ToDo",
			filters={"reference_type": "Lead", "reference_name": lead.name},
			fields=["allocated_to", "description"],
		)
		self.assertEqual(len(todo), 1)
		self.assertEqual(todo[0].allocated_to, "Administrator")
		self.assertIn("Ask about the budget", todo[0].description)
		run_due(name)
		step_types = frappe.get_all(
			"CRM Sequence Step Run", filters={"enrollment": name}, pluck="step_type", order_by="step_idx"
		)
		self.assertEqual(step_types, ["Call Task", "Call Task"])
		self.assertEqual(frappe.db.count("Communication", {"reference_name": lead.name}), 0)

	def test_a_lead_from_a_source_with_a_trigger_is_enrolled_automatically(self):
		source = frappe.get_doc({"doctype": "Lead Source", "source_name": unique("Source")}).insert(
			ignore_permissions=True
		)
		sequence = make_sequence(
			[{"step_type": "Call Task", "task_text": "Call"}],
			triggers=[{"trigger": "Lead Source", "value": source.name}],
		)
		lead = lead_with_email(source=source.name)
		self.assertTrue(
			frappe.db.exists(
				"CRM Sequence Enrollment",
				{"sequence": sequence, "reference_name": lead.name, "status": "Active"},
			)
		)

	def test_the_scheduler_queues_only_due_active_enrollments(self):
		sequence = self.two_emails()
		due = enroll(sequence, "Lead", lead_with_email().name)
		later = enroll(sequence, "Lead", lead_with_email().name)
		make_due(due)
		frappe.db.set_value(
			"CRM Sequence Enrollment", later, "next_step_at", add_to_date(now_datetime(), days=3)
		)
		queued = [name for chunk in dispatch.due_chunks() for name in chunk]
		self.assertIn(due, queued)
		self.assertNotIn(later, queued)


class TestSequenceAPIPermissions(CRMTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		open_all_hours()
		self.sequence = make_sequence([{"step_type": "Call Task", "task_text": "Call"}])
		self.user = make_user(["Sales User"])
		self.mine = make_lead(lead_owner=self.user)
		self.other = make_lead()
		restrict_user_to(self.user, "Lead", self.mine.name)

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_a_sales_user_enrolls_their_lead_but_not_a_lead_they_cannot_read(self):
		frappe.set_user(self.user)
		name = api.enroll(self.sequence, "Lead", self.mine.name)
		self.assertEqual(frappe.db.get_value("CRM Sequence Enrollment", name, "sender"), self.user)
		with self.assertRaises(frappe.PermissionError):
			api.enroll(self.sequence, "Lead", self.other.name)
		result = api.enroll_many(self.sequence, "Lead", [self.mine.name, self.other.name])
		self.assertEqual(result["refused"], [self.other.name])
		status = api.status("Lead", self.mine.name)
		self.assertEqual(status[0]["name"], name)
		self.assertEqual(status[0]["next_step_type"], "Call Task")
		api.unenroll(name, "Asked us to stop")
		self.assertEqual(
			frappe.db.get_value("CRM Sequence Enrollment", name, ["status", "exit_reason", "exit_note"]),
			("Exited", "Unenrolled", "Asked us to stop"),
		)
		with self.assertRaises(frappe.ValidationError):
			api.unenroll(name)


class TestSequenceStepFailures(CRMTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		outgoing_email_account()
		open_all_hours()

	def test_a_broken_template_marks_the_step_failed_with_its_reason_and_gives_the_salesperson_a_todo(self):
		broken = email_template(subject="Hi {{ lead_name }}", body="<p>{{ missing.field }}</p>")
		sequence = make_sequence(
			[
				{"step_type": "Automatic Email", "email_template": broken},
				{"step_type": "Call Task", "task_text": "Call", "delay_days": 1},
			]
		)
		lead = lead_with_email()
		name = enroll(sequence, "Lead", lead.name)
		enrollment = run_due(name)
		run = frappe.get_all(
			"CRM Sequence Step Run", filters={"enrollment": name}, fields=["status", "error", "todo"]
		)
		self.assertEqual(len(run), 1)
		self.assertEqual(run[0].status, "Failed")
		self.assertIn("missing", run[0].error)
		self.assertEqual(frappe.db.get_value("ToDo", run[0].todo, "allocated_to"), "Administrator")
		self.assertEqual(enrollment.next_step, 2)
		self.assertEqual(frappe.db.count("Communication", {"reference_name": lead.name}), 0)

	def test_a_party_without_an_email_address_gets_a_manual_email_todo_instead(self):
		sequence = make_sequence([{"step_type": "Automatic Email", "email_template": email_template()}])
		lead = make_lead()
		name = enroll(sequence, "Lead", lead.name)
		run_due(name)
		self.assertEqual(
			frappe.db.get_value("CRM Sequence Step Run", {"enrollment": name}, "step_type"), "Manual Email"
		)
		self.assertTrue(
			frappe.db.exists("ToDo", {"reference_name": lead.name, "allocated_to": "Administrator"})
		)
