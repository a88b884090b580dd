import frappe

from crm_extension.api import playbook as playbook_api
from crm_extension.sales_playbook.tests.factories import (
	make_opportunity_type,
	make_playbook,
	make_playbook_opportunity,
	reset_caches,
)
from crm_extension.tests.factories import make_user, restrict_user_to
from crm_extension.tests.utils import CRMTestCase


class TestSkipStep(CRMTestCase):
	def setUp(self):
		reset_caches()
		self.opportunity_type = make_opportunity_type()
		self.playbook = make_playbook(opportunity_type=self.opportunity_type)
		self.opportunity = make_playbook_opportunity(opportunity_type=self.opportunity_type)
		# The factory playbook: "Call the buyer" (mandatory), "Send the summary" (optional), "Qualify the deal".
		self.optional = self.opportunity.playbook_steps[1].name
		self.mandatory = self.opportunity.playbook_steps[0].name
		self.sales_user = make_user(["Sales User"])

	def tearDown(self):
		frappe.set_user("Administrator")
		reset_caches()

	def test_sales_user_skips_an_optional_step_with_a_reason(self):
		frappe.set_user(self.sales_user)

		guide = playbook_api.skip_step(self.opportunity.name, self.optional, reason="Buyer wants no email")

		skipped = next(row for row in guide["steps"] if row["name"] == self.optional)
		self.assertEqual((skipped["status"], skipped["done_by"]), ("Skipped", self.sales_user))
		self.assertEqual(guide["progress"], 33)
		frappe.set_user("Administrator")
		self.assertEqual(
			set(frappe.get_all("ToDo", {"crm_playbook_step": self.optional}, pluck="status")), {"Cancelled"}
		)
		comments = frappe.get_all(
			"Comment",
			{"reference_doctype": "Opportunity", "reference_name": self.opportunity.name},
			pluck="content",
		)
		self.assertEqual(len(comments), 1)
		self.assertIn("Buyer wants no email", comments[0])
		self.assertFalse(
			frappe.db.exists(
				"CRM Activity", {"reference_doctype": "Opportunity", "reference_name": self.opportunity.name}
			)
		)

	def test_completing_a_skipped_step_is_refused_with_a_clear_message_and_nothing_is_logged(self):
		playbook_api.skip_step(self.opportunity.name, self.optional, reason="Buyer wants no email")
		frappe.set_user(self.sales_user)

		with self.assertRaises(frappe.ValidationError) as raised:
			playbook_api.complete_step(self.opportunity.name, self.optional, outcome="Completed")

		frappe.set_user("Administrator")
		self.assertIn("Send the summary", str(raised.exception))
		self.assertIn("skipped", str(raised.exception))
		self.assertEqual(frappe.db.get_value("Opportunity Playbook Step", self.optional, "status"), "Skipped")
		self.assertFalse(
			frappe.db.exists(
				"CRM Activity", {"reference_doctype": "Opportunity", "reference_name": self.opportunity.name}
			)
		)

	def test_skipping_twice_or_skipping_a_done_step_changes_nothing(self):
		playbook_api.skip_step(self.opportunity.name, self.optional)
		playbook_api.skip_step(self.opportunity.name, self.optional)
		playbook_api.complete_step(self.opportunity.name, self.mandatory)

		guide = playbook_api.skip_step(self.opportunity.name, self.mandatory)

		statuses = {row["name"]: row["status"] for row in guide["steps"]}
		self.assertEqual((statuses[self.optional], statuses[self.mandatory]), ("Skipped", "Done"))
		self.assertEqual(
			frappe.db.count(
				"Comment", {"reference_doctype": "Opportunity", "reference_name": self.opportunity.name}
			),
			1,
		)

	def test_a_mandatory_step_cannot_be_skipped(self):
		with self.assertRaises(frappe.ValidationError):
			playbook_api.skip_step(self.opportunity.name, self.mandatory)

		self.assertEqual(frappe.db.get_value("Opportunity Playbook Step", self.mandatory, "status"), "Open")

	def test_a_user_who_cannot_write_the_opportunity_is_refused(self):
		outsider = make_user(["Sales User"])
		restrict_user_to(outsider, "Opportunity Type", make_opportunity_type(), only_on="Opportunity")
		frappe.set_user(outsider)

		with self.assertRaises(frappe.PermissionError):
			playbook_api.skip_step(self.opportunity.name, self.optional)
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Opportunity Playbook Step", self.optional, "status"), "Open")

	def test_unknown_opportunity_or_step_is_not_found(self):
		with self.assertRaises(frappe.DoesNotExistError):
			playbook_api.skip_step("CRM-OPP-0000-missing", self.optional)
		with self.assertRaises(frappe.DoesNotExistError):
			playbook_api.skip_step(self.opportunity.name, "no-such-row")
