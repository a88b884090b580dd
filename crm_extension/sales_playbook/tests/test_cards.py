import frappe
from frappe.utils import add_days, today

from crm_extension.api import playbook as playbook_api
from crm_extension.sales_playbook.tests.factories import (
	make_opportunity_type,
	make_playbook,
	make_playbook_opportunity,
	reset_caches,
)
from crm_extension.tests.factories import make_user, restrict_user_to
from crm_extension.tests.utils import CRMTestCase


class TestPlaybookCards(CRMTestCase):
	def setUp(self):
		reset_caches()
		self.opportunity_type = make_opportunity_type()
		make_playbook(opportunity_type=self.opportunity_type)
		self.opportunity = make_playbook_opportunity(opportunity_type=self.opportunity_type)

	def tearDown(self):
		frappe.set_user("Administrator")
		reset_caches()

	def test_overdue_steps_count_open_steps_due_before_today_on_open_opportunities(self):
		before = playbook_api.overdue_steps_card()["value"]
		rows = self.opportunity.playbook_steps
		for row in rows[:2]:
			frappe.db.set_value("Opportunity Playbook Step", row.name, "due_date", add_days(today(), -3))
		playbook_api.complete_step(self.opportunity.name, rows[1].name)

		card = playbook_api.overdue_steps_card()

		self.assertEqual(card["value"], before + 1)
		self.assertEqual(card["route"][1], "ToDo")
		frappe.db.set_value("Opportunity", self.opportunity.name, "status", "Lost")
		self.assertEqual(playbook_api.overdue_steps_card()["value"], before)

	def test_stalled_deals_count_opportunities_longer_in_their_stage_than_the_playbook_expects(self):
		before = playbook_api.stalled_deals_card()["value"]
		# The factory playbook expects 2 + 2 days in Prospecting.
		frappe.db.set_value("Opportunity", self.opportunity.name, "stage_since", add_days(today(), -4))
		self.assertEqual(playbook_api.stalled_deals_card()["value"], before)

		frappe.db.set_value("Opportunity", self.opportunity.name, "stage_since", add_days(today(), -5))

		self.assertEqual(playbook_api.stalled_deals_card()["value"], before + 1)
		self.assertTrue(playbook_api.guide(self.opportunity.name)["stalled"])

	def test_cards_count_only_opportunities_the_user_may_read(self):
		frappe.db.set_value(
			"Opportunity Playbook Step",
			self.opportunity.playbook_steps[0].name,
			"due_date",
			add_days(today(), -3),
		)
		frappe.db.set_value("Opportunity", self.opportunity.name, "stage_since", add_days(today(), -30))
		outsider = make_user(["Sales User"])
		restrict_user_to(outsider, "Opportunity Type", make_opportunity_type(), only_on="Opportunity")
		frappe.set_user(outsider)

		self.assertEqual(playbook_api.overdue_steps_card()["value"], 0)
		self.assertEqual(playbook_api.stalled_deals_card()["value"], 0)
