"""Who may create and edit a CRM Activity: the DocType's roles ("if owner" for Sales Users), fields the
system sets, activities that arrived through the webhook."""

import frappe
from frappe.client import insert as client_insert

from crm_extension.api import activity as activity_api
from crm_extension.tests.factories import make_inbound_source, make_lead, make_user
from crm_extension.tests.utils import CRMTestCase


class TestActivityEditPermissions(CRMTestCase):
	def setUp(self):
		self.lead = make_lead()
		self.author = make_user(["Sales User"])
		self.colleague = make_user(["Sales User"])
		self.manager = make_user(["Sales Manager"])
		frappe.set_user(self.author)
		self.activity = activity_api.log(
			reference_doctype="Lead", reference_name=self.lead.name, channel="Phone", direction="Outbound"
		)

	def tearDown(self):
		frappe.set_user("Administrator")

	def edit(self, user: str, activity: str | None = None, **values):
		frappe.set_user(user)
		doc = frappe.get_doc("CRM Activity", activity or self.activity)
		doc.update(values or {"subject": "Edited"})
		doc.save()
		return doc

	def webhook_activity(self) -> str:
		frappe.set_user("Administrator")
		doc = frappe.get_doc(
			{
				"doctype": "CRM Activity",
				"channel": "SMS",
				"direction": "Inbound",
				"reference_doctype": "Lead",
				"reference_name": self.lead.name,
				"source": "Webhook",
				"inbound_source": make_inbound_source().name,
				"external_id": f"gateway:{frappe.generate_hash(length=8)}",
			}
		)
		doc.flags.ignore_permissions = True
		return doc.insert().name

	def test_a_sales_user_edits_their_own_activity_but_not_a_colleagues(self):
		self.assertEqual(self.edit(self.author).subject, "Edited")

		with self.assertRaises(frappe.PermissionError):
			self.edit(self.colleague, subject="Not mine")
		frappe.set_user(self.colleague)
		self.assertTrue(frappe.has_permission("CRM Activity", "read", self.activity))
		self.assertFalse(frappe.has_permission("CRM Activity", "write", self.activity))

	def test_a_sales_manager_edits_any_activity(self):
		self.assertEqual(self.edit(self.manager, subject="Checked").subject, "Checked")

	def test_an_activity_that_arrived_through_the_webhook_is_read_only(self):
		name = self.webhook_activity()

		for user in (self.manager, self.author):
			with self.assertRaises(frappe.PermissionError):
				self.edit(user, name, subject="Rewritten")
		frappe.set_user(self.manager)
		self.assertFalse(frappe.has_permission("CRM Activity", "write", name))

	def test_a_user_can_never_create_a_webhook_activity_with_a_gateways_id(self):
		external_id = f"gateway:{frappe.generate_hash(length=8)}"
		for user in (self.author, self.manager):
			frappe.set_user(user)
			with self.assertRaises(frappe.PermissionError):
				client_insert(
					{
						"doctype": "CRM Activity",
						"channel": "SMS",
						"direction": "Inbound",
						"reference_doctype": "Lead",
						"reference_name": self.lead.name,
						"source": "Webhook",
						"external_id": external_id,
					}
				)
		frappe.set_user("Administrator")
		self.assertFalse(frappe.db.exists("CRM Activity", {"external_id": external_id}))

	def test_source_external_id_and_performed_by_are_set_by_the_system(self):
		for field, value in (
			("performed_by", self.colleague),
			("source", "Import"),
			("external_id", "changed-by-hand"),
		):
			with self.subTest(field=field):
				with self.assertRaises(frappe.ValidationError):
					self.edit(self.manager, **{field: value})

	def test_performed_by_given_by_a_user_on_create_is_the_user(self):
		frappe.set_user(self.author)
		doc = frappe.get_doc(
			{
				"doctype": "CRM Activity",
				"channel": "Phone",
				"direction": "Outbound",
				"reference_doctype": "Lead",
				"reference_name": self.lead.name,
				"performed_by": self.colleague,
			}
		).insert()

		self.assertEqual(doc.performed_by, self.author)

	def test_system_fields_are_read_only_in_the_desk_and_changes_are_tracked(self):
		meta = frappe.get_meta("CRM Activity")
		for field in ("source", "external_id", "performed_by"):
			self.assertTrue(meta.get_field(field).read_only, field)
		self.assertTrue(meta.track_changes)

		frappe.set_user(self.author)
		doc = frappe.get_doc("CRM Activity", self.activity)
		doc.subject = "Tracked"
		doc.save(ignore_version=False)  # Frappe's tests skip versions unless asked

		frappe.set_user("Administrator")
		self.assertTrue(
			frappe.db.exists("Version", {"ref_doctype": "CRM Activity", "docname": self.activity})
		)
