"""A chunk of Leads' engagement, read set-based from where the host keeps it.

For scoring, a Lead's engagement is what its unified feed shows on the channels a customer answers on:
the app's CRM Activities and ERPNext's emails, calls and meetings, about the Lead itself, its Contacts or
the Opportunities made from it. One query per source and related DocType for the whole chunk, never one
per Lead; rows get the feed's vocabulary from the activity-log engine.
"""

from collections import defaultdict

import frappe

from crm_extension.activity_log.engine.feed import normalise_host_item

Ref = tuple[str, str]


def load_touches(leads: list[str]) -> dict[str, list[dict]]:
	"""Feed items (at, channel, direction, outcome) per Lead, each item once per Lead."""
	owners = related_documents(leads)
	by_doctype: dict[str, list[str]] = defaultdict(list)
	for doctype, name in owners:
		by_doctype[doctype].append(name)
	touches: dict[str, dict[Ref, dict]] = defaultdict(dict)
	for reader in (_crm_activities, _communications, _calls, _events):
		for doctype, names in by_doctype.items():
			for row in reader(doctype, names):
				item = normalise_host_item(row)
				for lead in owners[(row.pop("ref_doctype"), row.pop("ref_name"))]:
					touches[lead][(item["source_doctype"], item["source_name"])] = item
	return {lead: list(items.values()) for lead, items in touches.items()}


def related_documents(leads: list[str]) -> dict[Ref, set[str]]:
	"""(doctype, name) of each Lead, its Contacts and its Opportunities -> the Leads it belongs to."""
	owners: dict[Ref, set[str]] = defaultdict(set)
	for lead in leads:
		owners[("Lead", lead)].add(lead)
	if not leads:
		return owners
	for contact, lead in frappe.db.sql(
		"""select parent, link_name from `tabDynamic Link`
		where parenttype = 'Contact' and link_doctype = 'Lead' and link_name in %(leads)s""",
		{"leads": tuple(leads)},
	):
		owners[("Contact", contact)].add(lead)
	for opportunity, lead in frappe.db.sql(
		"""select name, party_name from `tabOpportunity`
		where opportunity_from = 'Lead' and party_name in %(leads)s""",
		{"leads": tuple(leads)},
	):
		owners[("Opportunity", opportunity)].add(lead)
	return owners


def _crm_activities(doctype: str, names: list[str]) -> list[dict]:
	return frappe.db.sql(
		"""select 'CRM Activity' as source_doctype, name as source_name, activity_at as at, channel,
			direction, nullif(outcome, '') as outcome, reference_doctype as ref_doctype,
			reference_name as ref_name
		from `tabCRM Activity` where reference_doctype = %(doctype)s and reference_name in %(names)s""",
		{"doctype": doctype, "names": tuple(names)},
		as_dict=True,
	)


def _communications(doctype: str, names: list[str]) -> list[dict]:
	columns = """'Communication' as source_doctype, c.name as source_name, c.communication_date as at,
		c.communication_medium as channel, c.sent_or_received as direction, null as outcome"""
	kept = "c.communication_type = 'Communication' and coalesce(c.reference_doctype, '') != 'Event'"
	params = {"doctype": doctype, "names": tuple(names)}
	about = frappe.db.sql(
		f"""select {columns}, c.reference_doctype as ref_doctype, c.reference_name as ref_name
		from `tabCommunication` c
		where c.reference_doctype = %(doctype)s and c.reference_name in %(names)s and {kept}""",
		params,
		as_dict=True,
	)
	linked = frappe.db.sql(
		f"""select {columns}, l.link_doctype as ref_doctype, l.link_name as ref_name
		from `tabCommunication Link` l straight_join `tabCommunication` c on c.name = l.parent
		where l.link_doctype = %(doctype)s and l.link_name in %(names)s and {kept}""",
		params,
		as_dict=True,
	)
	return about + linked


def _calls(doctype: str, names: list[str]) -> list[dict]:
	return frappe.db.sql(
		"""select 'Call Log' as source_doctype, c.name as source_name,
			coalesce(c.start_time, c.creation) as at, null as channel, c.type as direction,
			c.status as outcome, l.link_doctype as ref_doctype, l.link_name as ref_name
		from `tabDynamic Link` l straight_join `tabCall Log` c on c.name = l.parent
		where l.parenttype = 'Call Log' and l.link_doctype = %(doctype)s and l.link_name in %(names)s""",
		{"doctype": doctype, "names": tuple(names)},
		as_dict=True,
	)


def _events(doctype: str, names: list[str]) -> list[dict]:
	return frappe.db.sql(
		"""select 'Event' as source_doctype, e.name as source_name, e.starts_on as at,
			e.event_category as channel, null as direction, e.status as outcome,
			p.reference_doctype as ref_doctype, p.reference_docname as ref_name
		from `tabEvent Participants` p straight_join `tabEvent` e on e.name = p.parent
		where p.parenttype = 'Event' and p.reference_doctype = %(doctype)s
			and p.reference_docname in %(names)s""",
		{"doctype": doctype, "names": tuple(names)},
		as_dict=True,
	)
