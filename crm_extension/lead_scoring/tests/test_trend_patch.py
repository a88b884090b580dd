import frappe
from frappe.utils import add_days, now_datetime

from crm_extension.bulk_sql import insert_rows
from crm_extension.patches.v0_1 import keep_latest_trend_point_on_lead
from crm_extension.tests.factories import make_lead
from crm_extension.tests.utils import CRMTestCase

KEPT = ["trend_since", "trend_score", "trend_grade", "trend_probability"]


class TestKeepLatestTrendPointOnLead(CRMTestCase):
	def test_a_lead_scored_before_keeps_its_latest_logged_point_and_a_second_run_changes_nothing(self):
		lead = make_lead()
		first, latest = add_days(now_datetime(), -9), add_days(now_datetime(), -2)
		log_points(lead.name, [(first, 12.0, "D"), (latest, 48.5, "B")])
		untouched = make_lead()

		keep_latest_trend_point_on_lead.execute()
		keep_latest_trend_point_on_lead.execute()

		self.assertEqual(frappe.db.get_value("Lead", lead.name, KEPT), (latest, 48.5, "B", 0.0))
		self.assertEqual(logged(lead.name), [(first, 12.0)])
		self.assertFalse(frappe.db.get_value("Lead", untouched.name, "trend_grade"))


def log_points(lead: str, points: list[tuple]):
	"""Trend points as the log held them before Leads kept their latest one."""
	insert_rows(
		"Lead Score Log",
		("name", "lead", "scored_on", "score", "grade"),
		[(frappe.generate_hash(length=12), lead, at, score, grade) for at, score, grade in points],
	)


def logged(lead: str) -> list[tuple]:
	return [
		tuple(row)
		for row in frappe.get_all(
			"Lead Score Log", {"lead": lead}, ["scored_on", "score"], order_by="scored_on", as_list=True
		)
	]
