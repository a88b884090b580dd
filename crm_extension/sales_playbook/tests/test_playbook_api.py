import frappe

from crm_extension.api import playbook as playbook_api
from crm_extension.sales_playbook.guide import closed_deals
from crm_extension.sales_playbook.tests.factories import (
	make_opportunity_type,
	make_playbook,
	make_playbook_opportunity,
	reset_caches,
)
from crm_extension.tests.factories import make_user, restrict_user_to
from crm_extension.tests.utils import CRMTestCase


class TestPlaybookAPI(CRMTestCase):
	def setUp(self):
		reset_caches()
		self.opportunity_type = make_opportunity_type()
		self.playbook = make_playbook(opportunity_type=self.opportunity_type)
		self.opportunity = make_playbook_opportunity(
			opportunity_type=self.opportunity_type, buyer_persona="Analytical"
		)
		self.sales_user = make_user(["Sales User"])

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.local.lang = "en"
		reset_caches()

	def test_guide_shows_progress_next_step_technique_and_persona_tips(self):
		frappe.set_user(self.sales_user)

		guide = playbook_api.guide(self.opportunity.name)

		self.assertEqual(guide["playbook"], self.playbook.name)
		self.assertEqual(guide["progress"], 0)
		self.assertEqual(len(guide["steps"]), 3)
		self.assertEqual(guide["next_step"]["title"], "Call the buyer")
		self.assertTrue(guide["next_step"]["reason"])
		technique = guide["recommended_technique"]
		self.assertIn(technique["name"], frappe.get_all("Closing Technique", pluck="name"))
		self.assertTrue(technique["reason"])
		self.assertIn(len(technique["example_lines"]), (2, 3))
		self.assertEqual(guide["persona_tips"]["persona"], "Analytical")
		self.assertTrue(guide["persona_tips"]["how_to_sell"])

	def test_guide_answers_in_persian_for_a_persian_user(self):
		frappe.local.lang = "fa"

		guide = playbook_api.guide(self.opportunity.name)

		self.assertEqual(guide["next_step"]["title"], "گام Call the buyer")
		self.assertEqual(guide["persona_tips"]["title"], "تحلیلی")
		self.assertRegex(guide["recommended_technique"]["example_lines"][0], "[\u0600-\u06ff]")

	def test_sales_user_completes_a_step_through_the_api(self):
		frappe.set_user(self.sales_user)
		step = playbook_api.guide(self.opportunity.name)["next_step"]["name"]

		guide = playbook_api.complete_step(self.opportunity.name, step, notes="Called, interested")

		done = next(row for row in guide["steps"] if row["name"] == step)
		self.assertEqual((done["status"], done["done_by"]), ("Done", self.sales_user))
		self.assertEqual(
			frappe.db.get_value("CRM Activity", done["activity"], "performed_by"), self.sales_user
		)

	def test_a_user_who_cannot_read_the_opportunity_is_refused(self):
		outsider = make_user(["Sales User"])
		restrict_user_to(outsider, "Opportunity Type", make_opportunity_type(), only_on="Opportunity")
		step = self.opportunity.playbook_steps[0].name
		frappe.set_user(outsider)

		with self.assertRaises(frappe.PermissionError):
			playbook_api.guide(self.opportunity.name)
		with self.assertRaises(frappe.PermissionError):
			playbook_api.complete_step(self.opportunity.name, step)
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Opportunity Playbook Step", step, "status"), "Open")

	def test_unknown_opportunity_or_step_is_not_found(self):
		with self.assertRaises(frappe.DoesNotExistError):
			playbook_api.guide("CRM-OPP-0000-missing")
		with self.assertRaises(frappe.DoesNotExistError):
			playbook_api.complete_step(self.opportunity.name, "no-such-row")

	def test_closed_deals_carry_the_technique_of_their_last_done_step(self):
		rows = self.opportunity.playbook_steps
		playbook_api.complete_step(self.opportunity.name, rows[0].name)
		playbook_api.complete_step(self.opportunity.name, rows[1].name)
		frappe.db.set_value("Opportunity", self.opportunity.name, "status", "Converted")

		deal = next(d for d in closed_deals() if d.playbook == self.playbook.name)

		self.assertTrue(deal.won)
		self.assertEqual(deal.persona, "Analytical")
		self.assertEqual(deal.technique, "Summary")
		self.assertEqual(deal.completed_steps, {rows[0].step_key, rows[1].step_key})


class TestPlaybookEffectiveness(CRMTestCase):
	def test_won_and_lost_deals_give_the_playbooks_win_rate_and_a_chart(self):
		from crm_extension.sales_playbook.report.playbook_effectiveness import playbook_effectiveness

		reset_caches()
		opportunity_type = make_opportunity_type()
		playbook = make_playbook(opportunity_type=opportunity_type)
		for status in ("Converted", "Lost", "Converted", "Open"):
			opportunity = make_playbook_opportunity(opportunity_type=opportunity_type)
			playbook_api.complete_step(opportunity.name, opportunity.playbook_steps[0].name)
			frappe.db.set_value("Opportunity", opportunity.name, "status", status)

		for group_by in ("Playbook", "Step", "Closing Technique", "Buyer Persona"):
			_columns, rows, _message, chart = playbook_effectiveness.execute({"group_by": group_by})
			self.assertTrue(rows, group_by)
			self.assertEqual(chart["type"], "bar")
		_columns, rows, _message, _chart = playbook_effectiveness.execute({"group_by": "Playbook"})
		row = next(row for row in rows if row["group"] == playbook.name)
		self.assertEqual((row["opportunities"], row["won"], row["lost"], row["open"]), (4, 2, 1, 1))
		self.assertAlmostEqual(row["win_rate"], 200 / 3)
		self.assertAlmostEqual(row["step_completion"], 100 * 4 / 12)
		reset_caches()
