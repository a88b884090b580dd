import frappe

from crm_extension.activity_log.refresh import refresh_preferred_channel
from crm_extension.api import activity as activity_api
from crm_extension.api.errors import PayloadTooLargeError
from crm_extension.tests.factories import hours_ago, make_lead, make_user, restrict_user_to
from crm_extension.tests.utils import CRMTestCase


class TestActivityAPI(CRMTestCase):
	def setUp(self):
		self.sales_user = make_user(["Sales User"])
		self.lead = make_lead()
		frappe.set_user(self.sales_user)

	def tearDown(self):
		frappe.set_user("Administrator")

	def log(self, **values):
		arguments = {
			"reference_doctype": "Lead",
			"reference_name": self.lead.name,
			"channel": "WhatsApp",
			"direction": "Outbound",
		}
		return activity_api.log(**{**arguments, **values})

	def test_sales_user_logs_an_activity_that_is_attributed_to_them(self):
		name = self.log(subject="Sent the price list", outcome="Completed", duration=90)

		activity = frappe.get_doc("CRM Activity", name)
		self.assertEqual(activity.performed_by, self.sales_user)
		self.assertEqual(activity.source, "API")
		self.assertEqual(activity.channel_type, "Messaging")
		self.assertEqual(activity.duration, 90)

	def test_same_external_id_returns_the_existing_activity(self):
		first = self.log(external_id="msg-1")
		second = self.log(external_id="msg-1", subject="changed")

		self.assertEqual(first, second)
		self.assertEqual(frappe.db.count("CRM Activity", {"source": "API", "external_id": "msg-1"}), 1)

	def test_external_id_of_an_activity_the_user_may_not_read_is_not_disclosed(self):
		external_id = frappe.generate_hash(length=10)
		self.log(external_id=external_id)
		outsider = make_user(["Sales User"])
		frappe.set_user("Administrator")
		restrict_user_to(outsider, "Lead", make_lead().name)
		frappe.set_user(outsider)

		with self.assertRaises(frappe.PermissionError):
			self.log(external_id=external_id)

	def test_activity_at_with_offset_is_stored_in_system_time(self):
		name = self.log(activity_at="2024-05-01T10:00:00+00:00")

		stored = frappe.db.get_value("CRM Activity", name, "activity_at")
		expected = frappe.utils.convert_utc_to_system_timezone(
			frappe.utils.get_datetime("2024-05-01 10:00:00")
		)
		self.assertEqual(stored, expected.replace(tzinfo=None))

	def test_follow_up_date_creates_a_todo_for_the_performer(self):
		name = self.log(follow_up_on="2030-01-15")

		todo = frappe.db.get_value("CRM Activity", name, "follow_up_todo")
		self.assertTrue(todo)
		self.assertEqual(frappe.db.get_value("ToDo", todo, "allocated_to"), self.sales_user)
		self.assertEqual(str(frappe.db.get_value("ToDo", todo, "date")), "2030-01-15")

	def test_unknown_channel_is_refused_and_nothing_is_written(self):
		before = frappe.db.count("CRM Activity")
		with self.assertRaises(frappe.ValidationError):
			self.log(channel="Pigeon")
		self.assertEqual(frappe.db.count("CRM Activity"), before)

	def test_missing_reference_is_a_not_found_error(self):
		with self.assertRaises(frappe.DoesNotExistError):
			self.log(reference_name="CRM-LEAD-0000-missing")

	def test_reference_the_user_may_not_read_is_refused(self):
		other_lead = make_lead()
		frappe.set_user("Administrator")
		restrict_user_to(self.sales_user, "Lead", self.lead.name)
		frappe.set_user(self.sales_user)

		with self.assertRaises(frappe.PermissionError):
			self.log(reference_name=other_lead.name)

	def test_malformed_timestamp_names_the_field(self):
		with self.assertRaises(frappe.ValidationError) as raised:
			self.log(activity_at="yesterday at noon")
		self.assertIn("activity_at", str(raised.exception))

	def test_oversized_details_are_refused(self):
		with self.assertRaises(frappe.ValidationError) as raised:
			self.log(details="x" * 60_000)
		self.assertNotIsInstance(raised.exception, PayloadTooLargeError)
		self.assertIn("details", str(raised.exception))

	def test_script_in_details_is_not_stored_as_markup(self):
		name = self.log(details="<script>alert('x')</script>Called back")

		details = frappe.db.get_value("CRM Activity", name, "details")
		self.assertNotIn("<script", details)
		self.assertIn("Called back", details)

	def test_four_completed_outbound_calls_logged_through_the_api_make_phone_preferred(self):
		self.log(channel="Email", direction="Outbound", activity_at=str(hours_ago(200)))
		self.log(channel="Email", direction="Inbound", activity_at=str(hours_ago(198)))
		self.log(channel="Email", direction="Outbound", activity_at=str(hours_ago(150)))
		for hours in (96, 72, 48, 24):
			self.log(
				channel="Phone", direction="Outbound", outcome="Completed", activity_at=str(hours_ago(hours))
			)

		frappe.set_user("Administrator")
		refresh_preferred_channel("Lead", self.lead.name)

		self.assertEqual(frappe.db.get_value("Lead", self.lead.name, "preferred_channel"), "Phone")

	def test_disabled_channel_is_refused(self):
		frappe.set_user("Administrator")
		frappe.db.set_value("CRM Channel", "Letter", "disabled", 1)
		frappe.set_user(self.sales_user)
		try:
			with self.assertRaises(frappe.ValidationError):
				self.log(channel="Letter")
		finally:
			frappe.db.set_value("CRM Channel", "Letter", "disabled", 0)


class TestActivityListPermissions(CRMTestCase):
	def test_activity_list_hides_activities_about_leads_the_user_may_not_read(self):
		user = make_user(["Sales User"])
		visible, hidden = make_lead(), make_lead()
		restrict_user_to(user, "Lead", visible.name)
		for lead in (visible, hidden):
			frappe.get_doc(
				{
					"doctype": "CRM Activity",
					"channel": "Phone",
					"direction": "Outbound",
					"reference_doctype": "Lead",
					"reference_name": lead.name,
				}
			).insert(ignore_permissions=True)

		frappe.set_user(user)
		try:
			references = set(frappe.get_list("CRM Activity", pluck="reference_name"))
		finally:
			frappe.set_user("Administrator")
		self.assertIn(visible.name, references)
		self.assertNotIn(hidden.name, references)
