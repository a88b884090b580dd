import re
from unittest.mock import patch

import frappe

from crm_extension.sales_playbook.shipped import shipped_records
from crm_extension.setup.defaults import insert_shipped_records
from crm_extension.setup.install import after_setup_wizard
from crm_extension.tests.utils import CRMTestCase

PERSIAN = re.compile("[\u0600-\u06ff]")


class TestShippedKnowledge(CRMTestCase):
	def test_techniques_personas_and_the_default_playbook_are_present_in_both_languages(self):
		techniques = frappe.get_all("Closing Technique", fields=["name", "description", "description_fa"])
		personas = frappe.get_all("Buyer Persona", fields=["name", "traits", "traits_fa"])

		self.assertTrue(
			{"Now-or-Never", "Summary", "Sharp Angle", "Question", "Assumptive", "Take-Away", "Soft Close"}
			<= {row.name for row in techniques}
		)
		self.assertTrue({"Driver", "Amiable", "Expressive", "Analytical"} <= {row.name for row in personas})
		for row in techniques + personas:
			english, persian = (
				(row.description, row.description_fa) if "description" in row else (row.traits, row.traits_fa)
			)
			self.assertTrue(english and not PERSIAN.search(english), row.name)
			self.assertRegex(persian, PERSIAN, row.name)
		playbook = frappe.get_doc("Sales Playbook", "Default Sales Playbook")
		self.assertTrue(playbook.is_default and playbook.enabled)
		self.assertEqual(playbook.steps[0].sales_stage, "Prospecting")
		self.assertEqual(playbook.steps[-1].sales_stage, "Negotiation/Review")
		for row in playbook.steps:
			self.assertRegex(row.title_fa, PERSIAN)
			self.assertRegex(row.guidance_fa, PERSIAN)

	def test_personas_rate_techniques_and_techniques_have_example_lines(self):
		analytical = frappe.get_doc("Buyer Persona", "Analytical")
		summary = frappe.get_doc("Closing Technique", "Summary")

		self.assertEqual(len(analytical.techniques), 7)
		self.assertTrue(all(0 <= row.suitability <= 100 for row in analytical.techniques))
		self.assertIn(len(summary.example_lines), (2, 3))
		self.assertRegex(summary.example_lines[0].line_fa, PERSIAN)

	def test_migrate_inserts_missing_records_and_keeps_edits(self):
		frappe.db.set_value("Closing Technique", "Summary", "description", "Our own words")

		insert_shipped_records()

		self.assertEqual(frappe.db.get_value("Closing Technique", "Summary", "description"), "Our own words")
		self.assertEqual(len(shipped_records()), 12)

	def test_a_playbook_waits_for_the_sales_stages_its_steps_name(self):
		"""ERPNext makes its Sales Stages in the setup wizard, which may come after the app's install."""
		playbook = next(record for record in shipped_records() if record["doctype"] == "Sales Playbook")
		early = {**playbook, "name": "Playbook Before Setup", "title": "Playbook Before Setup"}
		early["steps"] = [{**step, "sales_stage": "Stage The Wizard Makes Later"} for step in early["steps"]]

		with patch("crm_extension.setup.defaults.playbook_records", return_value=[early]):
			insert_shipped_records()
			self.assertFalse(frappe.db.exists("Sales Playbook", early["name"]))

			frappe.get_doc({"doctype": "Sales Stage", "stage_name": "Stage The Wizard Makes Later"}).insert()
			after_setup_wizard()

		self.assertTrue(frappe.db.exists("Sales Playbook", early["name"]))
		self.assertIn(
			"crm_extension.setup.install.after_setup_wizard", frappe.get_hooks("setup_wizard_complete")
		)

	def test_standard_records_cannot_be_deleted(self):
		with self.assertRaises(frappe.ValidationError):
			frappe.delete_doc("Closing Technique", "Summary")
