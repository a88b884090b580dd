"""Leads as ERPNext keeps them: each owned by a sales user, dated when it came in; some go cold (Do Not
Contact / Unqualified), some become Customers through ERPNext's own Lead-to-Customer mapping."""

from datetime import datetime

import frappe

from crm_extension.demo.plan import LeadStory
from crm_extension.demo.profiles import Profile


def make_lead(story: LeadStory, owner: str, profile: Profile) -> str:
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"first_name": story.first_name,
			"last_name": story.last_name,
			"company_name": story.company_name,
			"email_id": story.email,
			"mobile_no": story.mobile,
			"city": story.city,
			"country": profile.country,
			"territory": profile.territory,
			"source": story.source,
			"industry": story.industry,
			"no_of_employees": story.employees,
			"request_type": "Product Enquiry",
			"website": f"https://{story.email.split('@')[1]}" if story.quality > 0.5 else None,
			"lead_owner": owner,
			"company": profile.company,
			"buyer_persona": story.deal.persona if story.deal else None,
		}
	).insert(ignore_permissions=True)
	backdate("Lead", lead.name, story.created)
	return lead.name


def give_up(story: LeadStory, lead: str):
	"""A Lead the team stopped working on: it asked not to be contacted, or it was not a fit."""
	doc = frappe.get_doc("Lead", lead)
	if story.number % 2:
		doc.status = "Do Not Contact"
	else:
		doc.qualification_status = "Unqualified"
	doc.save(ignore_permissions=True)
	backdate("Lead", lead, story.decided, created=story.created)


def make_customer(story: LeadStory, lead: str, profile: Profile) -> str:
	from erpnext.crm.doctype.lead.lead import _make_customer

	customer = _make_customer(lead, ignore_permissions=True)
	customer.territory = profile.territory
	customer.insert(ignore_permissions=True)
	backdate("Customer", customer.name, story.decided)
	return customer.name


def backdate(doctype: str, name: str, modified: datetime, created: datetime | None = None):
	"""A generated record's time stamps as if it had been made then: ERPNext keeps no other date on a Lead
	or Customer, and the app learns from when Leads came in and were decided."""
	values = {"creation": created or modified, "modified": modified}
	frappe.db.set_value(doctype, name, values, update_modified=False)
