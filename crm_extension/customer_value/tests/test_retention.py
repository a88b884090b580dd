from unittest.mock import patch

import frappe
from frappe.utils import add_days, get_first_day, get_last_day, getdate, nowdate

from crm_extension.customer_value import retention
from crm_extension.tests.factories import default_company, make_customer
from crm_extension.tests.utils import CRMTestCase

SNAPSHOT = "Customer Value Snapshot"


class TestSnapshotRetention(CRMTestCase):
	def setUp(self):
		self.customer = make_customer().name
		self.today = getdate(nowdate())
		self.month = getdate(get_first_day(add_days(self.today, -200)))
		self.set_daily_days(90)

	def set_daily_days(self, days: int):
		previous = frappe.db.get_single_value("Customer Value Settings", "daily_snapshot_days")
		frappe.db.set_single_value("Customer Value Settings", "daily_snapshot_days", days)
		frappe.clear_document_cache("Customer Value Settings", "Customer Value Settings")
		self.addCleanup(frappe.clear_document_cache, "Customer Value Settings", "Customer Value Settings")
		self.addCleanup(
			frappe.db.set_single_value, "Customer Value Settings", "daily_snapshot_days", previous
		)

	def snapshot(self, as_of):
		frappe.get_doc(
			{
				"doctype": SNAPSHOT,
				"customer": self.customer,
				"company": default_company(),
				"as_of": as_of,
				"recompute_id": "test-retention",
			}
		).insert(ignore_permissions=True)

	def remaining(self) -> list:
		return sorted(frappe.get_all(SNAPSHOT, {"customer": self.customer}, pluck="as_of"))

	def test_snapshots_before_the_daily_window_keep_only_the_last_of_each_month(self):
		month_end = getdate(get_last_day(self.month))
		kept = [add_days(self.today, -1), add_days(self.today, -89), month_end]
		for as_of in [*kept, add_days(self.month, 2), add_days(self.month, 10)]:
			self.snapshot(as_of)

		retention.prune_snapshots()

		self.assertEqual(self.remaining(), sorted(getdate(day) for day in kept))

	def test_a_job_deletes_in_chunks_and_queues_the_rest(self):
		for offset in range(5):
			self.snapshot(add_days(self.month, offset))

		with (
			patch.object(retention, "ROWS_PER_STATEMENT", 1),
			patch.object(retention, "STATEMENTS_PER_JOB", 2),
			patch.object(frappe, "enqueue") as enqueue,
		):
			deleted = retention.prune_snapshots()

		self.assertEqual((deleted, len(self.remaining())), (2, 3))
		enqueue.assert_called_once()
		self.assertEqual(enqueue.call_args.args[0], "crm_extension.customer_value.retention.prune_snapshots")

	def test_zero_daily_days_keeps_every_snapshot(self):
		self.set_daily_days(0)
		self.snapshot(add_days(self.month, 2))

		retention.prune_snapshots()

		self.assertEqual(len(self.remaining()), 1)

	def test_the_scheduler_runs_the_retention_policy_with_a_90_day_default(self):
		self.assertIn(
			"crm_extension.customer_value.retention.prune_snapshots",
			frappe.get_hooks("scheduler_events")["daily_long"],
		)
		field = frappe.get_meta("Customer Value Settings").get_field("daily_snapshot_days")
		self.assertEqual(field.default, "90")
