import frappe

from crm_extension import bulk_sql
from crm_extension.tests.factories import make_lead
from crm_extension.tests.utils import CRMTestCase


class TestBulkSql(CRMTestCase):
	def test_update_rows_sets_only_the_given_fields_of_existing_rows_and_never_inserts(self):
		first, second = make_lead(city="Tabriz"), make_lead(city="Shiraz")
		missing = "CRM-LEAD-DOES-NOT-EXIST"

		bulk_sql.update_rows(
			"Lead",
			("name", "lead_score", "lead_grade"),
			[(first.name, 71.5, "B"), (second.name, 12, "D"), (missing, 99, "A")],
		)

		rows = frappe.get_all(
			"Lead", {"name": ("in", [first.name, second.name])}, ["name", "lead_score", "lead_grade", "city"]
		)
		self.assertEqual(
			{row.name: (row.lead_score, row.lead_grade, row.city) for row in rows},
			{first.name: (71.5, "B", "Tabriz"), second.name: (12, "D", "Shiraz")},
		)
		self.assertFalse(frappe.db.exists("Lead", missing))

	def test_rows_beyond_one_statement_are_all_written(self):
		leads = [make_lead().name for _ in range(3)]
		original = bulk_sql.ROWS_PER_STATEMENT
		bulk_sql.ROWS_PER_STATEMENT = 2
		self.addCleanup(setattr, bulk_sql, "ROWS_PER_STATEMENT", original)

		bulk_sql.update_rows("Lead", ("name", "lead_grade"), [(name, "C") for name in leads])

		self.assertEqual(frappe.get_all("Lead", {"name": ("in", leads)}, pluck="lead_grade"), ["C"] * 3)

	def test_copies_set_a_field_to_the_value_given_for_another(self):
		lead = make_lead(city="Tabriz")

		bulk_sql.update_rows(
			"Lead",
			("name", "lead_score"),
			[(lead.name, 64.5)],
			{"lead_grade": "B"},
			{"trend_score": "lead_score"},
		)

		self.assertEqual(
			frappe.db.get_value("Lead", lead.name, ["lead_score", "trend_score", "lead_grade", "city"]),
			(64.5, 64.5, "B", "Tabriz"),
		)

	def test_wide_rows_give_text_numbers_and_nulls_back_as_sent(self):
		lead = make_lead(company_name='شرکت "پارس", Tabriz', annual_revenue=1250000.5)

		rows = bulk_sql.wide_rows(
			["name", "company_name", "annual_revenue", "email_id", "1 + 1"],
			"from `tabLead` where name = %(name)s",
			{"name": lead.name},
		)

		self.assertEqual(rows, [[lead.name, 'شرکت "پارس", Tabriz', 1250000.5, None, 2]])
