import dataclasses
import math
from unittest.mock import patch

import frappe
from frappe.utils import getdate, nowdate

from crm_extension.customer_value import recompute as recompute_module
from crm_extension.customer_value.doctype.customer_value_settings.customer_value_settings import (
	get_settings,
	value_settings,
)
from crm_extension.customer_value.doctype.customer_value_tier.customer_value_tier import (
	get_tier_rules,
	get_tiers,
)
from crm_extension.customer_value.engine.scoring import ValueModel, score_customers
from crm_extension.customer_value.engine.tiers import assign_tiers
from crm_extension.customer_value.recompute import nightly_recompute, recompute
from crm_extension.customer_value.sources import load_invoice_facts
from crm_extension.customer_value.tests.factories import (
	days_ago,
	make_invoice,
	make_item,
	simulated_purchase_days,
)
from crm_extension.tests.factories import default_company, make_customer, unique
from crm_extension.tests.utils import CRMTestCase

SNAPSHOT = "Customer Value Snapshot"


class TestRecompute(CRMTestCase):
	def setUp(self):
		self.service = make_item(is_stock_item=False)
		self.big = make_customer().name
		self.small = make_customer().name
		self.silent = make_customer().name
		self.customers = [self.big, self.small, self.silent]
		for days in (60, 30, 5):
			make_invoice(self.big, [(self.service, 10, 100)], posting_date=days_ago(days))
		make_invoice(self.small, [(self.service, 1, 50)], posting_date=days_ago(20))

	def set_settings(self, **values):
		settings = frappe.get_doc("Customer Value Settings")
		previous = {field: settings.get(field) for field in values}
		settings.update(values)
		settings.save()
		self.addCleanup(self.restore_settings, previous)

	def restore_settings(self, values: dict):
		settings = frappe.get_doc("Customer Value Settings")
		settings.update(values)
		settings.save()

	def tier(self, customer: str) -> str | None:
		return frappe.db.get_value("Customer", customer, "value_tier")

	def test_every_customer_gets_values_a_tier_and_one_snapshot(self):
		result = recompute(customers=self.customers, chunk_size=2)

		self.assertEqual(result["customers"], 3)
		self.assertEqual(sum(result["tiers"].values()), 3)
		big = frappe.db.get_value(
			"Customer",
			self.big,
			["purchase_count", "monetary_value", "recency_days", "value_updated_on"],
			as_dict=True,
		)
		self.assertEqual((big.purchase_count, big.monetary_value, big.recency_days), (3, 3000, 5))
		self.assertTrue(big.value_updated_on)
		# Of 3 customers: Gold covers the best round(20% × 3) = 1, Silver round(50% × 3) = 2.
		self.assertEqual(self.tier(self.big), "Gold")
		self.assertEqual(self.tier(self.small), "Silver")
		self.assertEqual(self.tier(self.silent), "Bronze")
		self.assertEqual(frappe.db.get_value("Customer", self.silent, "rfm_segment"), "Lost")
		snapshot = frappe.get_all(SNAPSHOT, {"customer": self.big}, ["as_of", "value_tier", "gross_margin"])
		self.assertEqual(len(snapshot), 1)
		self.assertEqual((snapshot[0].as_of, snapshot[0].value_tier), (getdate(nowdate()), "Gold"))
		self.assertEqual(snapshot[0].gross_margin, 3000)

	def test_recompute_on_the_same_day_replaces_that_days_snapshots(self):
		recompute(customers=self.customers)
		recompute(customers=self.customers)

		self.assertEqual(frappe.db.count(SNAPSHOT, {"customer": ("in", self.customers)}), 3)

	def test_replaying_a_past_date_writes_history_but_not_the_customer(self):
		recompute(as_of=days_ago(25), customers=self.customers)

		self.assertIsNone(self.tier(self.big))
		snapshot = frappe.get_all(SNAPSHOT, {"customer": self.big}, ["as_of", "purchase_count"])
		self.assertEqual([(row.as_of, row.purchase_count) for row in snapshot], [(getdate(days_ago(25)), 2)])

	def test_tier_with_a_customer_group_moves_its_customers_into_it(self):
		group = frappe.get_doc(
			{
				"doctype": "Customer Group",
				"customer_group_name": unique("Gold Customers"),
				"parent_customer_group": "All Customer Groups",
			}
		).insert(ignore_permissions=True)
		frappe.db.set_value("Customer Value Tier", "Gold", "sync_customer_group", group.name)
		small_group = frappe.db.get_value("Customer", self.small, "customer_group")

		recompute(customers=self.customers)

		self.assertEqual(frappe.db.get_value("Customer", self.big, "customer_group"), group.name)
		self.assertEqual(frappe.db.get_value("Customer", self.small, "customer_group"), small_group)

	def test_a_failed_run_leaves_the_previous_tiers_and_snapshots(self):
		recompute(customers=self.customers, chunk_size=1)
		before = {name: self.tier(name) for name in self.customers}
		last_run = frappe.db.get_single_value("Customer Value Settings", "last_recompute_on")
		for days in (50, 40, 2):
			make_invoice(self.small, [(self.service, 100, 100)], posting_date=days_ago(days))

		with patch.object(recompute_module, "_sync_customer_groups", side_effect=RuntimeError("disk full")):
			with self.assertRaises(RuntimeError):
				recompute(customers=self.customers, chunk_size=1)

		self.assertEqual({name: self.tier(name) for name in self.customers}, before)
		self.assertEqual(frappe.db.count(SNAPSHOT, {"customer": ("in", self.customers)}), 3)
		self.assertEqual(frappe.db.get_single_value("Customer Value Settings", "last_recompute_on"), last_run)
		self.assertEqual(recompute(customers=self.customers)["customers"], 3)  # the transaction is usable
		self.assertEqual(self.tier(self.small), "Gold")

	def test_overdue_customers_drop_one_tier_when_the_settings_say_so(self):
		make_invoice(self.big, [(self.service, 1, 10)], posting_date=days_ago(40), due_date=days_ago(30))
		self.set_settings(demote_overdue=1)

		recompute(customers=self.customers)

		self.assertEqual(self.tier(self.big), "Silver")

	def test_a_second_recompute_while_one_runs_is_refused(self):
		other = frappe.database.get_db(
			host=frappe.conf.db_host, user=frappe.conf.db_name, password=frappe.conf.db_password
		)
		other.connect()
		self.addCleanup(other.close)
		self.assertEqual(other.sql("SELECT GET_LOCK(%s, 0)", recompute_module.lock_name())[0][0], 1)

		with patch.object(recompute_module, "LOCK_WAIT_SECONDS", 0):
			with self.assertRaises(frappe.ValidationError):
				recompute(customers=self.customers)

		other.sql("SELECT RELEASE_LOCK(%s)", recompute_module.lock_name())
		self.assertEqual(recompute(customers=self.customers)["customers"], 3)

	def test_another_company_writes_snapshots_but_not_the_customer(self):
		other_company = frappe.db.get_value("Company", {"name": ("!=", default_company())})
		if not other_company:
			self.skipTest("the site has a single company")

		recompute(company=other_company, customers=self.customers)

		self.assertIsNone(self.tier(self.big))
		self.assertEqual(frappe.get_all(SNAPSHOT, {"customer": self.big}, pluck="company"), [other_company])
		self.assertEqual(frappe.get_all(SNAPSHOT, {"customer": self.big}, pluck="purchase_count"), [0])

	def test_predictions_that_overflow_fall_back_to_the_run_rate_estimate(self):
		real_score = recompute_module.score_histories
		calls = []

		def overflowing_then_real(histories, model, settings, cuts):
			calls.append(model)
			scores = real_score(histories, ValueModel(None, None, "test"), settings, cuts)
			if len(calls) == 1:
				return {
					name: dataclasses.replace(score, predicted_clv=math.nan) for name, score in scores.items()
				}
			return real_score(histories, model, settings, cuts)

		fitted = ValueModel(bgnbd=object(), gamma_gamma=object())
		with (
			patch.object(recompute_module, "fit_sampled_model", return_value=fitted),
			patch.object(recompute_module, "score_histories", side_effect=overflowing_then_real),
		):
			result = recompute(customers=self.customers)

		self.assertEqual(result["fallback_reason"], recompute_module.PREDICTIONS_NOT_FINITE)
		self.assertTrue(calls[1].is_fallback)
		snapshots = frappe.get_all(
			SNAPSHOT, {"customer": ("in", self.customers)}, ["predicted_clv", "is_fallback"]
		)
		self.assertTrue(all(row.is_fallback and math.isfinite(row.predicted_clv) for row in snapshots))

	def test_future_date_is_refused(self):
		with self.assertRaises(frappe.ValidationError):
			recompute(as_of=days_ago(-1), customers=self.customers)

	def test_nightly_job_recomputes_when_enabled(self):
		self.set_settings(nightly_recompute=0)
		with patch.object(recompute_module, "_all_customer_chunks", return_value=[self.customers]):
			nightly_recompute()
			self.assertIsNone(self.tier(self.big))

			self.set_settings(nightly_recompute=1)
			nightly_recompute()

		self.assertEqual(self.tier(self.big), "Gold")
		self.assertIn(
			"crm_extension.customer_value.recompute.nightly_recompute",
			frappe.get_hooks("scheduler_events")["daily_long"],
		)


class TestRecomputeWithAModel(CRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		service = make_item(is_stock_item=False)
		cls.customers = []
		for days in simulated_purchase_days(customers=30, seed=6):
			cls.customers.append(make_customer().name)
			for day in days:
				make_invoice(cls.customers[-1], [(service, 1, 100 + day % 50)], posting_date=days_ago(day))

	def test_enough_repeat_customers_fit_the_model_and_every_value_is_finite(self):
		customers = self.customers
		result = recompute(customers=customers)

		snapshots = frappe.get_all(
			SNAPSHOT, {"customer": ("in", customers)}, ["is_fallback", "probability_alive", "predicted_clv"]
		)
		self.assertEqual(len(snapshots), 30)
		self.assertIsNone(result["fallback_reason"])
		self.assertTrue(all(value is not None for value in result["model"].values()))
		self.assertFalse(any(row.is_fallback for row in snapshots))
		self.assertEqual(sum(result["tiers"].values()), 30)
		self.assertTrue(all(0 <= row.probability_alive <= 100 for row in snapshots))
		self.assertGreater(sum(row.predicted_clv for row in snapshots), 0)

	def test_a_chunk_at_a_time_gives_what_the_engine_gives_for_everyone_at_once(self):
		as_of = getdate(nowdate())
		company = default_company()
		facts = load_invoice_facts(self.customers, company, as_of)
		expected = score_customers(
			{name: facts.get(name, []) for name in self.customers}, as_of, value_settings(get_settings())
		)
		expected_tiers = assign_tiers(
			{name: value.predicted_clv for name, value in expected.customers.items()},
			get_tier_rules(get_tiers()),
		)

		recompute(customers=self.customers, company=company, chunk_size=4)

		rows = frappe.get_all(
			SNAPSHOT,
			{"customer": ("in", self.customers), "as_of": as_of},
			["customer", "value_tier", "rfm_segment", "r_score", "f_score", "m_score", "predicted_clv"],
		)
		self.assertEqual({row.customer: row.value_tier for row in rows}, expected_tiers)
		for row in rows:
			value = expected.customers[row.customer]
			self.assertEqual(
				(row.rfm_segment, row.r_score, row.f_score, row.m_score),
				(value.segment, value.r_score, value.f_score, value.m_score),
			)
			self.assertAlmostEqual(row.predicted_clv, value.predicted_clv, places=4)


class TestTiers(CRMTestCase):
	def test_shipped_tiers_exist_in_rank_order(self):
		names = frappe.get_all("Customer Value Tier", order_by="`rank` asc", pluck="name")
		self.assertEqual(
			[name for name in names if name in ("Platinum", "Gold", "Silver", "Bronze")],
			["Platinum", "Gold", "Silver", "Bronze"],
		)

	def test_share_above_100_percent_is_refused(self):
		tier = frappe.get_doc("Customer Value Tier", "Gold")
		tier.share = 120
		with self.assertRaises(frappe.ValidationError):
			tier.save()

	def test_a_customer_group_that_is_a_group_node_is_refused(self):
		tier = frappe.get_doc("Customer Value Tier", "Gold")
		tier.sync_customer_group = "All Customer Groups"
		with self.assertRaises(frappe.ValidationError):
			tier.save()

	def test_a_new_tier_does_not_inherit_the_default_customer_group(self):
		tier = frappe.get_doc(
			{
				"doctype": "Customer Value Tier",
				"tier_name": unique("Tier"),
				"rank": 900 + frappe.utils.cint(frappe.generate_hash(length=2), 0) % 90,
				"rule_type": "Minimum CLV",
				"min_clv": 1000,
			}
		).insert(ignore_permissions=True)

		self.assertFalse(tier.sync_customer_group)

	def test_a_deleted_shipped_tier_does_not_come_back_on_migrate(self):
		from crm_extension.setup.defaults import insert_shipped_records

		frappe.db.savepoint("cv_deleted_tier")
		self.addCleanup(frappe.db.rollback, save_point="cv_deleted_tier")
		frappe.delete_doc("Customer Value Tier", "Bronze", ignore_permissions=True, force=True)
		insert_shipped_records()

		self.assertFalse(frappe.db.exists("Customer Value Tier", "Bronze"))
