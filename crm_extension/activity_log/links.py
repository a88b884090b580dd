"""Which host documents belong to a party's history.

A Lead's history includes its Opportunities, Quotations and Contacts and the Customer it became; a
Customer's includes its Contacts, Opportunities, Quotations, Sales Orders and the Lead it was converted from;
a Prospect's includes its Leads; an Opportunity's its Quotations. Sales Orders made from any of those
Quotations belong too, so an activity logged against a Sales Order or a Quotation shows on the party's
timeline. Each step is one query over a set of names, never one per record.
"""

from collections import defaultdict

import frappe

References = dict[str, set[str]]


def related_references(doctype: str, name: str) -> References:
	refs: References = defaultdict(set)
	refs[doctype].add(name)
	if doctype == "Prospect":
		_add_prospect_leads(refs, {name})
		_add_party_documents(refs, "Prospect", {name})
	if doctype == "Customer":
		_add_customer_leads(refs, {name})
	if doctype in ("Lead", "Prospect", "Customer"):
		_add_lead_customers(refs, refs["Lead"])
		for party_type in ("Lead", "Customer"):
			_add_party_documents(refs, party_type, refs[party_type])
		_add_contacts(refs, ("Lead", "Customer"))
	if doctype == "Opportunity":
		_add_opportunity_documents(refs, {name})
	_add_sales_orders(refs)
	return {dt: names for dt, names in refs.items() if names}


def _add_sales_orders(refs: References):
	if refs["Customer"]:
		refs["Sales Order"].update(_names("Sales Order", "name", {"customer": ("in", refs["Customer"])}))
	if refs["Quotation"]:
		refs["Sales Order"].update(
			_names("Sales Order Item", "parent", {"prevdoc_docname": ("in", refs["Quotation"])})
		)


def _add_prospect_leads(refs: References, prospects: set[str]):
	refs["Lead"].update(_names("Prospect Lead", "lead", {"parent": ("in", prospects)}))


def _add_customer_leads(refs: References, customers: set[str]):
	refs["Lead"].update(lead for lead in _names("Customer", "lead_name", {"name": ("in", customers)}) if lead)


def _add_lead_customers(refs: References, leads: set[str]):
	if leads:
		refs["Customer"].update(_names("Customer", "name", {"lead_name": ("in", leads)}))


def _add_party_documents(refs: References, party_type: str, parties: set[str]):
	if not parties:
		return
	opportunities = _names(
		"Opportunity", "name", {"opportunity_from": party_type, "party_name": ("in", parties)}
	)
	refs["Opportunity"].update(opportunities)
	refs["Quotation"].update(
		_names("Quotation", "name", {"quotation_to": party_type, "party_name": ("in", parties)})
	)
	_add_opportunity_documents(refs, opportunities)


def _add_opportunity_documents(refs: References, opportunities: set[str]):
	if not opportunities:
		return
	refs["Quotation"].update(_names("Quotation", "name", {"opportunity": ("in", opportunities)}))
	refs["Contact"].update(
		contact
		for contact in _names("Opportunity", "contact_person", {"name": ("in", opportunities)})
		if contact
	)


def _add_contacts(refs: References, party_types: tuple[str, ...]):
	for party_type in party_types:
		if refs[party_type]:
			refs["Contact"].update(
				_names(
					"Dynamic Link",
					"parent",
					{
						"parenttype": "Contact",
						"link_doctype": party_type,
						"link_name": ("in", refs[party_type]),
					},
				)
			)


def _names(doctype: str, field: str, filters: dict) -> set[str]:
	"""Distinct non-empty values of field over rows matching equality / ("in", values) filters."""
	table = frappe.qb.DocType(doctype)
	query = frappe.qb.from_(table).select(table[field]).distinct()
	for column, value in filters.items():
		if isinstance(value, tuple) and value[0] == "in":
			query = query.where(table[column].isin(list(value[1])))
		else:
			query = query.where(table[column] == value)
	return {value for value in query.run(pluck=True) if value}
