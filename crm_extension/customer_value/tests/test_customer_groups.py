import json

import frappe

from crm_extension.customer_value.recompute import recompute
from crm_extension.customer_value.tests.factories import days_ago, make_invoice, make_item
from crm_extension.tests.factories import make_customer, unique
from crm_extension.tests.utils import CRMTestCase


class TestCustomerGroupSync(CRMTestCase):
	"""A tier that names a Customer Group moves its customers there in the open and gives them back."""

	def setUp(self):
		self.service = make_item(is_stock_item=False)
		self.big = make_customer().name
		self.small = make_customer().name
		self.silent = make_customer().name
		self.customers = [self.big, self.small, self.silent]
		for days in (60, 30, 5):
			make_invoice(self.big, [(self.service, 10, 100)], posting_date=days_ago(days))
		make_invoice(self.small, [(self.service, 1, 50)], posting_date=days_ago(20))
		self.own_group = {name: self.group_of(name) for name in self.customers}
		self.vip = (
			frappe.get_doc(
				{
					"doctype": "Customer Group",
					"customer_group_name": unique("Gold Customers"),
					"parent_customer_group": "All Customer Groups",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		self.set_tier_group("Gold", self.vip)

	def set_tier_group(self, tier_name: str, group: str | None):
		tier = frappe.get_doc("Customer Value Tier", tier_name)
		tier.sync_customer_group = group
		tier.save(ignore_permissions=True)

	def group_of(self, customer: str) -> str:
		return frappe.db.get_value("Customer", customer, "customer_group")

	def make_small_the_best_customer(self):
		for days in (50, 40, 2):
			make_invoice(self.small, [(self.service, 100, 100)], posting_date=days_ago(days))

	def test_a_customer_leaving_a_synced_tier_goes_back_to_its_own_group(self):
		recompute(customers=self.customers)
		self.assertEqual(self.group_of(self.big), self.vip)

		self.make_small_the_best_customer()
		recompute(customers=self.customers)

		self.assertEqual(self.group_of(self.small), self.vip)
		self.assertEqual(self.group_of(self.big), self.own_group[self.big])

	def test_a_group_move_updates_modified_and_is_recorded_as_a_version(self):
		modified_before = frappe.db.get_value("Customer", self.big, "modified")

		recompute(customers=self.customers)

		self.assertGreater(frappe.db.get_value("Customer", self.big, "modified"), modified_before)
		versions = frappe.get_all("Version", {"ref_doctype": "Customer", "docname": self.big}, pluck="data")
		changes = [json.loads(data)["changed"] for data in versions]
		self.assertIn([["customer_group", self.own_group[self.big], self.vip]], changes)
		self.assertFalse(frappe.get_all("Version", {"ref_doctype": "Customer", "docname": self.small}))

	def test_clearing_a_tiers_customer_group_moves_its_customers_back(self):
		recompute(customers=self.customers)

		self.set_tier_group("Gold", None)

		self.assertEqual(self.group_of(self.big), self.own_group[self.big])

	def test_a_group_chosen_by_hand_after_a_move_is_kept_when_the_customer_leaves_the_tier(self):
		recompute(customers=self.customers)
		frappe.db.set_value("Customer", self.big, "customer_group", self.own_group[self.small])
		self.make_small_the_best_customer()

		recompute(customers=self.customers)

		self.assertEqual(self.group_of(self.big), self.own_group[self.small])

	def test_uninstall_moves_every_synced_customer_back_to_its_own_group(self):
		from crm_extension.setup.uninstall import restore_host_data

		recompute(customers=self.customers)

		restore_host_data()

		self.assertEqual({name: self.group_of(name) for name in self.customers}, self.own_group)
