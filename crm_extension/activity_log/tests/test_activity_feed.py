import frappe
from frappe.utils import add_days, now_datetime

from crm_extension import refresh_queue
from crm_extension.activity_log.refresh import refresh_preferred_channel
from crm_extension.api import activity as activity_api
from crm_extension.tests.factories import (
	hours_ago,
	make_activity,
	make_contact,
	make_customer,
	make_lead,
	make_opportunity,
	make_user,
	restrict_user_to,
)
from crm_extension.tests.utils import CRMTestCase


def feed_sources(items: list[dict]) -> set[tuple[str, str]]:
	return {(item["source_doctype"], str(item["source_name"])) for item in items}


class TestUnifiedFeed(CRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.lead = make_lead(email_id=f"{frappe.generate_hash(length=8)}@example.com")
		cls.customer = make_customer(lead_name=cls.lead.name)
		cls.contact = make_contact([("Customer", cls.customer.name)])
		cls.opportunity = make_opportunity("Lead", cls.lead.name)
		cls.host_records = cls.make_host_records()

	@classmethod
	def make_host_records(cls) -> dict[str, str]:
		lead, customer = cls.lead.name, cls.customer.name
		records = {}
		records["CRM Activity"] = make_activity("Opportunity", cls.opportunity.name, channel="WhatsApp").name
		records["Communication"] = (
			frappe.get_doc(
				{
					"doctype": "Communication",
					"communication_type": "Communication",
					"communication_medium": "Email",
					"sent_or_received": "Received",
					"subject": "Question about delivery",
					"content": "<p>When can you deliver?</p>",
					"reference_doctype": "Lead",
					"reference_name": lead,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		call = frappe.get_doc(
			{
				"doctype": "Call Log",
				"id": frappe.generate_hash(length=10),
				"type": "Incoming",
				"status": "Completed",
				"from": "+989121112233",
				"to": "+982100000000",
				"start_time": hours_ago(5),
			}
		)
		call.append("links", {"link_doctype": "Customer", "link_name": customer})
		records["Call Log"] = call.insert(ignore_permissions=True).name
		event = frappe.get_doc(
			{
				"doctype": "Event",
				"subject": "Demo at their office",
				"starts_on": hours_ago(30),
				"event_type": "Public",
				"status": "Completed",
			}
		)
		event.append(
			"event_participants", {"reference_doctype": "Contact", "reference_docname": cls.contact.name}
		)
		records["Event"] = event.insert(ignore_permissions=True).name
		records["ToDo"] = (
			frappe.get_doc(
				{
					"doctype": "ToDo",
					"description": "Send the contract",
					"reference_type": "Customer",
					"reference_name": customer,
					"allocated_to": "Administrator",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		records["Comment"] = (
			frappe.get_doc(
				{
					"doctype": "Comment",
					"comment_type": "Comment",
					"reference_doctype": "Lead",
					"reference_name": lead,
					"content": "Met at the fair",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		lead_doc = frappe.get_doc("Lead", lead)
		lead_doc.append(
			"notes",
			{"note": "Prefers calls after 4pm", "added_by": "Administrator", "added_on": hours_ago(2)},
		)
		lead_doc.save(ignore_permissions=True)
		records["CRM Note"] = str(lead_doc.notes[-1].name)
		return records

	def test_customer_feed_merges_every_host_source_and_follows_links(self):
		items = activity_api.timeline("Customer", self.customer.name, page_length=100)

		for doctype, name in self.host_records.items():
			self.assertIn((doctype, name), feed_sources(items), f"{doctype} missing from the feed")

	def test_feed_is_newest_first_and_paginates_without_overlap(self):
		first = activity_api.timeline("Customer", self.customer.name, start=0, page_length=3)
		second = activity_api.timeline("Customer", self.customer.name, start=3, page_length=3)

		times = [item["at"] for item in first + second]
		self.assertEqual(times, sorted(times, reverse=True))
		self.assertFalse(feed_sources(first) & feed_sources(second))

	def test_host_rows_speak_the_feed_vocabulary(self):
		feed = activity_api.timeline("Customer", self.customer.name, page_length=100)
		items = {item["source_doctype"]: item for item in feed}

		self.assertEqual(
			(items["Communication"]["channel"], items["Communication"]["direction"]), ("Email", "Inbound")
		)
		self.assertEqual(items["Communication"]["summary"], "When can you deliver?")
		self.assertEqual((items["Call Log"]["channel"], items["Call Log"]["outcome"]), ("Phone", "Completed"))
		self.assertEqual(items["Event"]["channel"], "Meeting")
		self.assertEqual(items["CRM Note"]["direction"], "Internal")

	def test_channel_filter_keeps_only_that_channel(self):
		items = activity_api.timeline("Customer", self.customer.name, page_length=100, channel="Email")

		self.assertTrue(items)
		self.assertEqual({item["channel"] for item in items}, {"Email"})

	def test_user_never_sees_items_about_documents_they_cannot_read(self):
		user = make_user(["Sales User"])
		restrict_user_to(user, "Lead", make_lead().name, only_on="Lead")
		frappe.set_user(user)
		try:
			items = activity_api.timeline("Customer", self.customer.name, page_length=100)
			with self.assertRaises(frappe.PermissionError):
				activity_api.timeline("Lead", self.lead.name)
		finally:
			frappe.set_user("Administrator")

		sources = feed_sources(items)
		# Items about the unreadable Lead are gone ...
		self.assertNotIn(("Communication", self.host_records["Communication"]), sources)
		self.assertNotIn(("Comment", self.host_records["Comment"]), sources)
		# ... so are records of DocTypes the role cannot read (Call Log) and others' to-dos ...
		self.assertNotIn(("Call Log", self.host_records["Call Log"]), sources)
		self.assertNotIn(("ToDo", self.host_records["ToDo"]), sources)
		# ... while what the user can open stays: a public Event and activity on a readable Opportunity.
		self.assertIn(("Event", self.host_records["Event"]), sources)
		self.assertIn(("CRM Activity", self.host_records["CRM Activity"]), sources)

	def test_a_new_user_permission_applies_to_the_next_page_at_once(self):
		# System Manager: Communication's own rules (email accounts, "if owner") let this user read every email.
		user = make_user(["Sales User", "System Manager"])
		frappe.set_user(user)
		try:
			before = feed_sources(activity_api.timeline("Customer", self.customer.name, page_length=100))
			frappe.set_user("Administrator")
			restrict_user_to(user, "Lead", make_lead().name, only_on="Lead")
			frappe.set_user(user)
			after = feed_sources(activity_api.timeline("Customer", self.customer.name, page_length=100))
		finally:
			frappe.set_user("Administrator")

		lead_email = ("Communication", self.host_records["Communication"])
		self.assertIn(lead_email, before)
		self.assertNotIn(lead_email, after)

	def test_timeline_of_an_unsupported_doctype_is_refused(self):
		with self.assertRaises(frappe.ValidationError):
			activity_api.timeline("Sales Invoice", "SINV-0001")


class TestPreferredChannel(CRMTestCase):
	def test_lead_prefers_the_channel_it_answers(self):
		lead = make_lead()
		for days_ago in (20, 10, 3):
			sent = add_days(now_datetime(), -days_ago)
			make_activity("Lead", lead.name, channel="WhatsApp", direction="Outbound", activity_at=sent)
			make_activity(
				"Lead",
				lead.name,
				channel="WhatsApp",
				direction="Inbound",
				activity_at=frappe.utils.add_to_date(sent, hours=2),
			)
			make_activity(
				"Lead",
				lead.name,
				channel="Email",
				direction="Outbound",
				activity_at=sent,
				outcome="No Response",
			)

		refresh_preferred_channel("Lead", lead.name)

		self.assertEqual(frappe.db.get_value("Lead", lead.name, "preferred_channel"), "WhatsApp")

	def test_lead_without_any_answer_has_no_preferred_channel(self):
		lead = make_lead()
		make_activity("Lead", lead.name, channel="Email", direction="Outbound", outcome="No Response")

		refresh_preferred_channel("Lead", lead.name)

		self.assertIsNone(frappe.db.get_value("Lead", lead.name, "preferred_channel"))

	def test_logging_an_activity_queues_a_refresh_instead_of_computing_inline(self):
		lead = make_lead()

		make_activity("Lead", lead.name, channel="SMS", direction="Inbound")

		self.assertIn(("Lead", lead.name), refresh_queue.pending("preferred_channel"))
		self.assertIsNone(frappe.db.get_value("Lead", lead.name, "preferred_channel"))
