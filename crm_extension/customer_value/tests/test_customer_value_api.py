from unittest.mock import patch

import frappe

from crm_extension.api import customer_value as api
from crm_extension.customer_value import recompute as recompute_module
from crm_extension.customer_value.tests.factories import (
	days_ago,
	make_invoice,
	make_item,
	simulated_purchase_days,
)
from crm_extension.tests.factories import make_customer, make_user, restrict_user_to
from crm_extension.tests.utils import CRMTestCase


class TestCustomerValueAPI(CRMTestCase):
	def setUp(self):
		self.service = make_item(is_stock_item=False)
		self.customers = [make_customer().name for _ in range(3)]
		for position, customer in enumerate(self.customers):
			for days in range(position + 1):
				make_invoice(
					customer, [(self.service, 1, 100 * (position + 1))], posting_date=days_ago(10 + 20 * days)
				)
		patcher = patch.object(recompute_module, "_all_customer_chunks", return_value=[self.customers])
		patcher.start()
		self.addCleanup(patcher.stop)
		self.addCleanup(frappe.set_user, "Administrator")

	def test_sales_manager_recomputes_and_gets_the_summary(self):
		frappe.set_user(make_user(["Sales Manager"]))

		result = api.recompute()

		self.assertEqual(result["customers"], 3)
		self.assertEqual(sum(result["tiers"].values()), 3)
		self.assertEqual(set(result["model"]), {"r", "alpha", "a", "b", "p", "q", "gamma", "log_likelihood"})
		self.assertTrue(result["fallback_reason"])  # three customers cannot support a fit

	def test_sales_user_may_not_recompute_or_backtest(self):
		frappe.set_user(make_user(["Sales User"]))

		with self.assertRaises(frappe.PermissionError):
			api.recompute()
		with self.assertRaises(frappe.PermissionError):
			api.backtest(calibration_end=days_ago(30), holdout_end=days_ago(1))

	def test_profile_has_the_values_history_and_monthly_sales(self):
		api.recompute(as_of=days_ago(5))
		api.recompute()
		frappe.set_user(make_user(["Sales User"]))

		profile = api.profile(self.customers[2])

		self.assertEqual(profile["purchase_count"], 3)
		self.assertEqual(profile["value_tier"], "Gold")
		self.assertEqual([str(row.as_of) for row in profile["history"]], [days_ago(5), days_ago(0)])
		self.assertIn("expected_purchases_90d", profile)
		self.assertEqual(len(profile["purchases_by_month"]), 12)
		self.assertEqual(sum(month["revenue"] for month in profile["purchases_by_month"]), 900)

	def test_profile_of_a_customer_the_user_may_not_read_is_refused(self):
		user = make_user(["Sales User"])
		restrict_user_to(user, "Customer", self.customers[0])
		frappe.set_user(user)

		self.assertEqual(api.profile(self.customers[0])["customer"], self.customers[0])
		with self.assertRaises(frappe.PermissionError):
			api.profile(self.customers[1])

	def test_profile_of_a_customer_that_never_bought_has_no_recency(self):
		api.recompute()
		silent = make_customer().name

		self.assertIsNone(api.profile(silent)["recency_days"])

	def test_backtest_compares_predicted_and_actual_purchases_by_decile(self):
		for days in simulated_purchase_days(customers=30, seed=6):
			customer = make_customer().name
			for day in days:
				make_invoice(customer, [(self.service, 1, 100)], posting_date=days_ago(day))
		frappe.set_user(make_user(["Sales Manager"]))

		result = api.backtest(calibration_end=days_ago(60), holdout_end=days_ago(0))

		self.assertGreaterEqual(result["customers"], 30)
		self.assertTrue(result["model"]["converged"])
		self.assertEqual(sum(row["actual"] for row in result["deciles"]), result["actual_total"])
		self.assertAlmostEqual(sum(row["predicted"] for row in result["deciles"]), result["predicted_total"])
		self.assertEqual(len(result["chart"]["datasets"]), 2)

	def test_backtest_with_a_holdout_in_the_future_is_refused(self):
		with self.assertRaises(frappe.ValidationError):
			api.backtest(calibration_end=days_ago(5), holdout_end=days_ago(-5))

	def test_queue_recompute_enqueues_one_job_on_the_long_queue(self):
		with patch("frappe.enqueue") as enqueue:
			answer = api.queue_recompute(as_of=days_ago(1))

		kwargs = enqueue.call_args.kwargs
		self.assertEqual(
			(kwargs["queue"], kwargs["job_id"], kwargs["deduplicate"]), ("long", answer["job_id"], True)
		)
		self.assertEqual(kwargs["as_of"], days_ago(1))
