import frappe
from frappe.utils import add_days, today

from crm_extension.sales_playbook.report.playbook_pipeline.playbook_pipeline import execute
from crm_extension.sales_playbook.tests.factories import (
	make_opportunity_type,
	make_playbook,
	make_playbook_opportunity,
	reset_caches,
)
from crm_extension.tests.factories import make_user, restrict_user_to
from crm_extension.tests.utils import CRMTestCase


def report_row(opportunity: str, **filters) -> dict | None:
	_columns, rows, _message, _chart = execute(filters)
	return next((row for row in rows if row["opportunity"] == opportunity), None)


class TestPlaybookPipeline(CRMTestCase):
	def setUp(self):
		reset_caches()
		self.opportunity_type = make_opportunity_type()
		make_playbook(opportunity_type=self.opportunity_type)
		self.opportunity = make_playbook_opportunity(opportunity_type=self.opportunity_type)

	def tearDown(self):
		frappe.set_user("Administrator")
		reset_caches()

	def test_lists_progress_next_step_and_flags_a_deal_longer_in_its_stage_than_expected(self):
		# The factory playbook expects 2 + 2 days in Prospecting.
		frappe.db.set_value("Opportunity", self.opportunity.name, "stage_since", add_days(today(), -10))

		row = report_row(self.opportunity.name)

		self.assertEqual(row["sales_playbook"], self.opportunity.sales_playbook)
		self.assertEqual(row["next_step"], self.opportunity.playbook_steps[0].title)
		self.assertEqual(row["days_in_stage"], 10)
		self.assertEqual(row["stalled"], 1)
		self.assertIsNotNone(report_row(self.opportunity.name, only_stalled=1))

	def test_a_deal_within_its_expected_days_is_not_stalled(self):
		frappe.db.set_value("Opportunity", self.opportunity.name, "stage_since", add_days(today(), -1))

		self.assertEqual(report_row(self.opportunity.name)["stalled"], 0)
		self.assertIsNone(report_row(self.opportunity.name, only_stalled=1))

	def test_user_sees_only_opportunities_they_may_read(self):
		outsider = make_user(["Sales User"])
		restrict_user_to(outsider, "Opportunity Type", make_opportunity_type(), only_on="Opportunity")
		frappe.set_user(outsider)

		self.assertIsNone(report_row(self.opportunity.name))
