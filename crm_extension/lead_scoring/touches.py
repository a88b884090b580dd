"""A chunk of Leads' engagement, read set-based from where the host keeps it.

For scoring, a Lead's engagement is what its unified feed shows on the channels a customer answers on:
the app's CRM Activities and ERPNext's emails, calls and meetings, about the Lead itself, its Contacts or
the Opportunities made from it. One query per source and related DocType for the whole chunk, never one
per Lead; rows get the feed's vocabulary from the activity-log engine.

The hot rows (CRM Activities and emails, millions in a nightly rescore) are read as plain tuples with their
time as whole seconds and microseconds: Frappe's driver would otherwise parse every DATETIME from text,
which cost more than the rest of scoring.

A full rescore scores Leads in runs that are consecutive in name order. When few other Leads lie between a
run's first and last name (``lead_span``), rows about its Leads are read as one index range instead of one
index lookup per name (a thousand names in an ``IN`` list cost MariaDB about twice the range), and the rows
of the other Leads in the range are dropped. Summed over a rescore, the ranges read each row at most once.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe

from crm_extension.activity_log.engine.feed import normalise_host_item
from crm_extension.bulk_sql import wide_rows

Ref = tuple[str, str]
YEAR_ONE = datetime(1, 1, 1)
YEAR_ONE_SECONDS = 31_622_400  # TO_SECONDS('0001-01-01'): MariaDB counts from the year 0
# A range read beats a lookup per name while at most a third of the Leads in the range are others.
MAX_LEADS_PER_SPANNED_LEAD = 1.5


@dataclass(frozen=True)
class LeadSpan:
	"""The first and last name of a run of Leads in the database's name order."""

	first: str
	last: str


def lead_span(leads: list[str]) -> LeadSpan | None:
	"""A span for ``leads`` (a run in the database's name order, as ``jobs.open_lead_chunks`` gives them) when
	few other Leads lie between its ends; None otherwise, and when the ends are out of order."""
	if len(leads) < 2:
		return None
	inside = frappe.db.sql(
		"select count(*) from `tabLead` where name between %(first)s and %(last)s",
		{"first": leads[0], "last": leads[-1]},
	)[0][0]
	if len(leads) <= inside <= MAX_LEADS_PER_SPANNED_LEAD * len(leads):
		return LeadSpan(leads[0], leads[-1])
	return None


def reference_condition(
	column: str, doctype: str, names: list[str], span: LeadSpan | None
) -> tuple[str, dict]:
	"""The SQL condition that ``column`` names one of ``names`` (documents of ``doctype``), and its parameters:
	the span's range for Leads when there is a span (it also matches Leads that are not in ``names``)."""
	if span and doctype == "Lead":
		return f"{column} between %(span_first)s and %(span_last)s", {
			"span_first": span.first,
			"span_last": span.last,
		}
	return f"{column} in %(names)s", {"names": tuple(names)}


def load_touches(leads: list[str]) -> dict[str, list[dict]]:
	"""Feed items (at, channel, direction, outcome) per Lead, each item once per Lead."""
	owners = related_documents(leads)
	touches = activity_touches(owners)
	for lead, items in host_touches(owners).items():
		touches.setdefault(lead, []).extend(items)
	return touches


def activity_touches(owners: dict[Ref, set[str]]) -> dict[str, list[dict]]:
	"""The CRM Activities about the documents in ``owners``, per Lead."""
	touches: dict[str, list[dict]] = defaultdict(list)
	for doctype, names in names_by_doctype(owners).items():
		# An activity has one reference, so it reaches a Lead once: no need to de-duplicate.
		for seconds, microseconds, channel, direction, outcome, reference in _crm_activities(doctype, names):
			item = {"at": stored_datetime(seconds, microseconds), "channel": channel, "direction": direction}
			item["outcome"] = outcome
			for lead in owners.get((doctype, reference), ()):
				touches[lead].append(item)
	return dict(touches)


def host_touches(owners: dict[Ref, set[str]], span: LeadSpan | None = None) -> dict[str, list[dict]]:
	"""The host's emails, calls and meetings about the documents in ``owners``, per Lead, each item once;
	and the clicks on links of sequence emails (outcome "Clicked", at the click's time)."""
	by_doctype = names_by_doctype(owners)
	host_items: dict[str, dict[Ref, dict]] = defaultdict(dict)
	for reader in (_communications, _calls, _events, _sequence_clicks):
		for doctype, names in by_doctype.items():
			for row in reader(doctype, names, span):
				item = normalise_host_item(row)
				for lead in owners.get((row.pop("ref_doctype"), row.pop("ref_name")), ()):
					host_items[lead][(item["source_doctype"], item["source_name"])] = item
	return {lead: list(items.values()) for lead, items in host_items.items()}


def names_by_doctype(owners: dict[Ref, set[str]]) -> dict[str, list[str]]:
	by_doctype: dict[str, list[str]] = defaultdict(list)
	for doctype, name in owners:
		by_doctype[doctype].append(name)
	return by_doctype


def stored_datetime(seconds: int, microseconds: int) -> datetime:
	"""A DATETIME read as ``TO_SECONDS(column), MICROSECOND(column)`` (no time zone is involved)."""
	return YEAR_ONE + timedelta(seconds=seconds - YEAR_ONE_SECONDS, microseconds=microseconds)


def to_seconds(at: datetime) -> float:
	"""``TO_SECONDS(at) + MICROSECOND(at) / 1e6`` computed in Python, to compare with stored times."""
	return (at - YEAR_ONE).total_seconds() + YEAR_ONE_SECONDS


def related_documents(leads: list[str], span: LeadSpan | None = None) -> dict[Ref, set[str]]:
	"""(doctype, name) of each Lead, its Contacts and its Opportunities -> the Leads it belongs to."""
	owners: dict[Ref, set[str]] = defaultdict(set)
	for lead in leads:
		owners[("Lead", lead)].add(lead)
	if not leads:
		return owners
	contacts, params = reference_condition("link_name", "Lead", leads, span)
	for contact, lead in frappe.db.sql(
		f"""select parent, link_name from `tabDynamic Link`
		where parenttype = 'Contact' and link_doctype = 'Lead' and {contacts}""",
		params,
	):
		if ("Lead", lead) in owners:
			owners[("Contact", contact)].add(lead)
	opportunities, params = reference_condition("party_name", "Lead", leads, span)
	for opportunity, lead in frappe.db.sql(
		f"""select name, party_name from `tabOpportunity` where opportunity_from = 'Lead' and {opportunities}""",
		params,
	):
		if ("Lead", lead) in owners:
			owners[("Opportunity", opportunity)].add(lead)
	return owners


def _crm_activities(doctype: str, names: list[str]) -> list[tuple]:
	# All columns are in the engagement index, so MariaDB reads the index alone.
	return frappe.db.sql(
		"""select to_seconds(activity_at), microsecond(activity_at), channel, direction,
			nullif(outcome, ''), reference_name
		from `tabCRM Activity` where reference_doctype = %(doctype)s and reference_name in %(names)s""",
		{"doctype": doctype, "names": tuple(names)},
	)


def _communications(doctype: str, names: list[str], span: LeadSpan | None = None) -> list[dict]:
	kept = "c.communication_type = 'Communication' and coalesce(c.reference_doctype, '') != 'Event'"
	columns = [
		*("c.name", "to_seconds(c.communication_date)", "microsecond(c.communication_date)"),
		*("c.communication_medium", "c.sent_or_received"),
	]
	about_name, params = reference_condition("c.reference_name", doctype, names, span)
	about = wide_rows(
		[*columns, "c.reference_doctype", "c.reference_name"],
		f"""from `tabCommunication` c where c.reference_doctype = %(doctype)s and {about_name} and {kept}""",
		{**params, "doctype": doctype},
	)
	link_name, params = reference_condition("l.link_name", doctype, names, span)
	linked = wide_rows(
		[*columns, "l.link_doctype", "l.link_name"],
		f"""from `tabCommunication Link` l straight_join `tabCommunication` c on c.name = l.parent
		where l.link_doctype = %(doctype)s and {link_name} and {kept}""",
		{**params, "doctype": doctype},
	)
	return [
		{
			"source_doctype": "Communication",
			"source_name": name,
			"at": None if seconds is None else stored_datetime(seconds, microseconds),
			"channel": medium,
			"direction": sent_or_received,
			"outcome": None,
			"ref_doctype": ref_doctype,
			"ref_name": ref_name,
		}
		for name, seconds, microseconds, medium, sent_or_received, ref_doctype, ref_name in about + linked
	]


def _calls(doctype: str, names: list[str], span: LeadSpan | None = None) -> list[dict]:
	link_name, params = reference_condition("l.link_name", doctype, names, span)
	return frappe.db.sql(
		f"""select 'Call Log' as source_doctype, c.name as source_name,
			coalesce(c.start_time, c.creation) as at, null as channel, c.type as direction,
			c.status as outcome, l.link_doctype as ref_doctype, l.link_name as ref_name
		from `tabDynamic Link` l straight_join `tabCall Log` c on c.name = l.parent
		where l.parenttype = 'Call Log' and l.link_doctype = %(doctype)s and {link_name}""",
		{**params, "doctype": doctype},
		as_dict=True,
	)


def _events(doctype: str, names: list[str], span: LeadSpan | None = None) -> list[dict]:
	docname, params = reference_condition("p.reference_docname", doctype, names, span)
	return frappe.db.sql(
		f"""select 'Event' as source_doctype, e.name as source_name, e.starts_on as at,
			e.event_category as channel, null as direction, e.status as outcome,
			p.reference_doctype as ref_doctype, p.reference_docname as ref_name
		from `tabEvent Participants` p straight_join `tabEvent` e on e.name = p.parent
		where p.parenttype = 'Event' and p.reference_doctype = %(doctype)s and {docname}""",
		{**params, "doctype": doctype},
		as_dict=True,
	)


def _sequence_clicks(doctype: str, names: list[str], span: LeadSpan | None = None) -> list[dict]:
	"""The first click on a link of each sequence email sent about the documents (``CRM Sequence Step Run``:
	its ``clicked_on``), on the step runs' (reference_doctype, reference_name) index."""
	reference, params = reference_condition("r.reference_name", doctype, names, span)
	return frappe.db.sql(
		f"""select 'CRM Sequence Step Run' as source_doctype, r.name as source_name, r.clicked_on as at,
			null as channel, null as direction, 'Clicked' as outcome,
			r.reference_doctype as ref_doctype, r.reference_name as ref_name
		from `tabCRM Sequence Step Run` r
		where r.reference_doctype = %(doctype)s and {reference} and r.clicked_on is not null""",
		{**params, "doctype": doctype},
		as_dict=True,
	)
