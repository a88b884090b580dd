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


def insert_moving_opportunities(count: int):
	"""Open Opportunities entered today, without a playbook (written in one statement: only their rows matter)."""
	now, company = frappe.utils.now_datetime(), frappe.get_all("Company", pluck="name", limit=1)[0]
	fields = ("name", "creation", "modified", "owner", "modified_by", "docstatus", "idx", "status")
	fields += ("opportunity_from", "party_name", "company", "transaction_date", "stage_since", "sales_stage")
	head = (now, now, "Administrator", "Administrator", 0, 0)
	tail = ("Open", "Lead", "nobody", company, today(), today(), "Prospecting")
	rows = [(f"CRM-TEST-MOVING-{frappe.generate_hash(length=12)}", *head, *tail) for _ in range(count)]
	frappe.db.bulk_insert("Opportunity", fields, rows)


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

	def test_only_stalled_is_filtered_before_the_row_limit(self):
		# The stalled deal is the oldest: 1000 newer deals that are moving fill the report's row limit.
		frappe.db.set_value(
			"Opportunity",
			self.opportunity.name,
			{"transaction_date": add_days(today(), -60), "stage_since": add_days(today(), -10)},
		)
		insert_moving_opportunities(1000)

		self.assertIsNotNone(report_row(self.opportunity.name, only_stalled=1))

	def test_the_stalled_deals_card_opens_the_stalled_deals(self):
		from crm_extension.api.playbook import stalled_deals_card

		card = stalled_deals_card()

		self.assertEqual(card["route"], ["query-report", "Playbook Pipeline"])
		self.assertEqual(card["route_options"], {"only_stalled": 1})

	def test_user_sees_only_opportunities_they_may_read(self):
		outsider = make_user(["Sales User"])
		restrict_user_to(outsider, "Opportunity Type", make_opportunity_type(), only_on="Opportunity")
		frappe.set_user(outsider)

		self.assertIsNone(report_row(self.opportunity.name))
