"""Every reference type an activity can be logged against shows up on a party's timeline: an activity about a
Quotation or a Sales Order appears on the Lead, Customer and Opportunity it belongs to, and a Prospect has a
timeline of its own."""

import frappe
from frappe.utils import add_days, today

from crm_extension.activity_log.engine.payload import REFERENCE_DOCTYPES
from crm_extension.api import activity as activity_api
from crm_extension.customer_value.tests.factories import make_item
from crm_extension.tests.factories import (
	default_company,
	make_activity,
	make_customer,
	make_lead,
	make_opportunity,
)
from crm_extension.tests.utils import CRMTestCase


def activity_names(reference_doctype: str, reference_name: str) -> set[str]:
	items = activity_api.timeline(reference_doctype, reference_name, page_length=100)
	return {item["source_name"] for item in items if item["source_doctype"] == "CRM Activity"}


class TestTimelineReferences(CRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.item = make_item(is_stock_item=False)
		cls.lead = make_lead(email_id=f"{frappe.generate_hash(length=8)}@example.com")
		cls.customer = make_customer(lead_name=cls.lead.name)
		cls.opportunity = make_opportunity("Customer", cls.customer.name)
		cls.quotation = cls.make_quotation()
		cls.sales_order = cls.make_sales_order()

	@classmethod
	def make_quotation(cls) -> str:
		quotation = frappe.get_doc(
			{
				"doctype": "Quotation",
				"quotation_to": "Customer",
				"party_name": cls.customer.name,
				"opportunity": cls.opportunity.name,
				"company": default_company(),
				"items": [{"item_code": cls.item, "qty": 1, "rate": 100}],
			}
		)
		return quotation.insert(ignore_permissions=True).name

	@classmethod
	def make_sales_order(cls) -> str:
		order = frappe.get_doc(
			{
				"doctype": "Sales Order",
				"customer": cls.customer.name,
				"company": default_company(),
				"delivery_date": add_days(today(), 7),
				"items": [
					{
						"item_code": cls.item,
						"qty": 1,
						"rate": 100,
						"delivery_date": add_days(today(), 7),
						"prevdoc_docname": cls.quotation,
					}
				],
			}
		)
		return order.insert(ignore_permissions=True).name

	def test_an_activity_about_a_sales_order_is_on_its_customer_lead_and_opportunity_timelines(self):
		activity = make_activity("Sales Order", self.sales_order, subject="Confirmed the delivery").name

		self.assertIn(activity, activity_names("Customer", self.customer.name))
		self.assertIn(activity, activity_names("Lead", self.lead.name))
		self.assertIn(activity, activity_names("Opportunity", self.opportunity.name))

	def test_an_activity_about_a_quotation_is_on_its_customer_lead_and_opportunity_timelines(self):
		activity = make_activity("Quotation", self.quotation, subject="Walked through the quotation").name

		self.assertIn(activity, activity_names("Customer", self.customer.name))
		self.assertIn(activity, activity_names("Lead", self.lead.name))
		self.assertIn(activity, activity_names("Opportunity", self.opportunity.name))

	def test_the_sales_order_itself_is_on_the_opportunity_timeline_through_its_quotation(self):
		items = activity_api.timeline("Opportunity", self.opportunity.name, page_length=100)

		self.assertIn(
			("Sales Order", self.sales_order), {(i["source_doctype"], i["source_name"]) for i in items}
		)

	def test_a_prospect_has_a_timeline_with_its_leads_activities(self):
		prospect = frappe.get_doc(
			{
				"doctype": "Prospect",
				"company_name": f"Prospect {frappe.generate_hash(length=6)}",
				"leads": [{"lead": self.lead.name}],
			}
		).insert(ignore_permissions=True)
		activity = make_activity("Lead", self.lead.name, subject="Called the prospect's buyer").name
		own = make_activity("Prospect", prospect.name, subject="Met the prospect's board").name

		self.assertTrue({activity, own} <= activity_names("Prospect", prospect.name))
		self.assertTrue(frappe.get_meta("Prospect").has_field("crm_activity_html"))

	def test_every_reference_type_the_api_accepts_reaches_some_timeline(self):
		references = {
			"Lead": self.lead.name,
			"Customer": self.customer.name,
			"Opportunity": self.opportunity.name,
			"Quotation": self.quotation,
			"Sales Order": self.sales_order,
		}
		for doctype in set(REFERENCE_DOCTYPES) - {"Contact", "Prospect"}:  # Contact, Prospect: own tests
			activity = make_activity(doctype, references[doctype]).name
			self.assertIn(activity, activity_names("Customer", self.customer.name), doctype)

	def test_the_log_dialog_starts_from_the_partys_preferred_channel_outbound(self):
		frappe.db.set_value("Lead", self.lead.name, "preferred_channel", "WhatsApp")

		self.assertEqual(
			activity_api.log_defaults("Lead", self.lead.name),
			{"channel": "WhatsApp", "direction": "Outbound"},
		)
		opportunity = make_opportunity("Lead", self.lead.name)
		self.assertEqual(activity_api.log_defaults("Opportunity", opportunity.name)["channel"], "WhatsApp")

	def test_a_tasks_html_description_is_shown_as_the_text_it_reads_as(self):
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"description": "<p>Check the customer's credit & terms</p>",
				"reference_type": "Customer",
				"reference_name": self.customer.name,
			}
		).insert(ignore_permissions=True)

		items = activity_api.timeline("Customer", self.customer.name, page_length=100)

		self.assertIn("Check the customer's credit & terms", {item["subject"] for item in items})
