import frappe

from crm_extension.customer_value.recompute import recompute
from crm_extension.customer_value.report.customer_tier_distribution import customer_tier_distribution
from crm_extension.customer_value.report.customer_tier_movement import customer_tier_movement
from crm_extension.customer_value.report.customer_value_at_risk import customer_value_at_risk
from crm_extension.customer_value.report.customer_value_concentration import customer_value_concentration
from crm_extension.customer_value.report.rfm_segments import rfm_segments
from crm_extension.customer_value.tests.factories import days_ago, make_invoice, make_item
from crm_extension.tests.factories import default_company, make_customer
from crm_extension.tests.utils import CRMTestCase


class TestCustomerValueReports(CRMTestCase):
	def setUp(self):
		service = make_item(is_stock_item=False)
		self.loyal = make_customer().name
		self.slipping = make_customer().name
		for days in (40, 20, 3):
			make_invoice(self.loyal, [(service, 1, 200)], posting_date=days_ago(days))
		for days in (320, 300):
			make_invoice(self.slipping, [(service, 10, 100)], posting_date=days_ago(days))
		recompute(customers=[self.loyal, self.slipping])

	def test_slipping_valuable_customer_is_at_risk_and_the_active_one_is_not(self):
		_columns, rows, _message, _chart, summary = customer_value_at_risk.execute({"limit": 100000})

		listed = {row["customer"]: row for row in rows}
		self.assertIn(self.slipping, listed)
		self.assertNotIn(self.loyal, listed)
		self.assertGreater(listed[self.slipping]["margin_at_risk"], 0)
		self.assertEqual(summary[0]["value"], len(rows))

	def test_rfm_segments_lists_every_segment_once(self):
		_columns, rows, _message, chart = rfm_segments.execute({})

		self.assertEqual(len(rows), 11)
		self.assertGreaterEqual(sum(row["customers"] for row in rows), 2)
		self.assertEqual(len(chart["data"]["labels"]), 11)

	def test_tier_movement_counts_every_customer_scored_on_the_later_date_once(self):
		recompute(as_of=days_ago(30), customers=[self.loyal, self.slipping])

		columns, rows = customer_tier_movement.execute({"from_date": days_ago(30), "to_date": days_ago(0)})[
			:2
		]

		scored_today = frappe.db.count(
			"Customer Value Snapshot", {"as_of": days_ago(0), "company": default_company()}
		)
		self.assertEqual(sum(row["total"] for row in rows), scored_today)
		self.assertEqual(rows[-1]["from_tier"], "Not Scored")
		self.assertEqual(len(columns), len(rows) + 1)  # from tier, one per tier, total

	def test_tier_movement_without_dates_compares_the_two_latest_recomputes(self):
		recompute(as_of=days_ago(30), customers=[self.loyal, self.slipping])

		rows = customer_tier_movement.execute({})[1]

		scored_today = frappe.db.count(
			"Customer Value Snapshot", {"as_of": days_ago(0), "company": default_company()}
		)
		self.assertEqual(sum(row["total"] for row in rows), scored_today)

	def test_tier_movement_from_a_date_thinned_out_by_retention_reads_the_snapshot_kept_before_it(self):
		recompute(as_of=days_ago(130), customers=[self.loyal, self.slipping])

		_columns, rows, message = customer_tier_movement.execute(
			{"from_date": days_ago(125), "to_date": days_ago(0)}
		)

		not_scored = next(row for row in rows if row["from_tier"] == "Not Scored")
		scored_before = sum(row["total"] for row in rows) - not_scored["total"]
		self.assertGreaterEqual(scored_before, 2)
		self.assertIn(str(frappe.utils.getdate(days_ago(130))), message)

	def test_tier_distribution_has_one_row_per_tier(self):
		rows = customer_tier_distribution.execute({})[1]

		tiers = frappe.get_all("Customer Value Tier", order_by="`rank` asc", pluck="name")
		self.assertEqual([row["value_tier"] for row in rows], tiers)
		self.assertGreaterEqual(sum(row["customers"] for row in rows), 2)

	def test_concentration_accumulates_to_all_sales_and_margin(self):
		rows = customer_value_concentration.pareto_rows([(500, 100), (300, 90), (150, 60), (50, 50)])

		self.assertEqual([row["customers"] for row in rows], [1, 1, 1, 1])
		self.assertEqual([row["cumulative_revenue_share"] for row in rows], [50, 80, 95, 100])
		self.assertAlmostEqual(rows[0]["cumulative_margin_share"], 100 / 3)
		self.assertEqual(rows[-1]["cumulative_margin_share"], 100)
		self.assertLessEqual(len(customer_value_concentration.execute({})[1]), 10)
