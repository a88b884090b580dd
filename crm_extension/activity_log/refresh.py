"""Keeps `preferred_channel` on Lead, Customer and Contact up to date.

Saving an activity only queues the work (once per party per transaction, in chunks under bulk load:
``crm_extension.refresh_queue``); the job reads the party's feed, asks the engine, and writes
one field. The nightly job does the same for every party whose feed changed in the last day.
"""

import frappe
from frappe.utils import add_days, now_datetime

from crm_extension.activity_log.engine.preferred_channel import compute_preferred_channel
from crm_extension.activity_log.feed import get_feed
from crm_extension.refresh_queue import queue_refresh

PREFERENCE_PARTIES = ("Lead", "Customer", "Contact")
FEED_ITEMS_FOR_PREFERENCE = 2000
NIGHTLY_CHUNK = 500


def queue_preferred_channel_refresh(reference_doctype: str, reference_name: str):
	"""Refresh the affected parties once this transaction commits, each at most once (``refresh_queue``)."""
	queue_refresh("preferred_channel", affected_parties(reference_doctype, reference_name))


def affected_parties(reference_doctype: str, reference_name: str) -> set[tuple[str, str]]:
	"""The parties whose feed contains items about this document."""
	parties: set[tuple[str, str]] = set()
	if reference_doctype in PREFERENCE_PARTIES:
		parties.add((reference_doctype, reference_name))
	if reference_doctype == "Contact":
		parties.update(_linked_parties("Contact", [reference_name]))
	elif reference_doctype == "Opportunity":
		row = frappe.db.get_value(
			"Opportunity", reference_name, ["opportunity_from", "party_name", "contact_person"], as_dict=True
		)
		if row:
			_add_party(parties, row.opportunity_from, row.party_name)
			_add_party(parties, "Contact", row.contact_person)
	elif reference_doctype == "Quotation":
		row = frappe.db.get_value("Quotation", reference_name, ["quotation_to", "party_name"], as_dict=True)
		if row:
			_add_party(parties, row.quotation_to, row.party_name)
	elif reference_doctype == "Sales Order":
		_add_party(parties, "Customer", frappe.db.get_value("Sales Order", reference_name, "customer"))
	elif reference_doctype == "Prospect":
		for lead in frappe.get_all("Prospect Lead", {"parent": reference_name}, pluck="lead"):
			_add_party(parties, "Lead", lead)
	return parties


def _add_party(parties: set, doctype: str | None, name: str | None):
	if doctype in PREFERENCE_PARTIES and name:
		parties.add((doctype, name))


def _linked_parties(parenttype: str, parents: list[str]) -> set[tuple[str, str]]:
	links = frappe.get_all(
		"Dynamic Link",
		filters={
			"parenttype": parenttype,
			"parent": ("in", parents),
			"link_doctype": ("in", PREFERENCE_PARTIES),
		},
		fields=["link_doctype", "link_name"],
	)
	return {(link.link_doctype, link.link_name) for link in links}


def refresh_preferred_channel(doctype: str, name: str):
	if not frappe.db.exists(doctype, name):
		return
	feed = get_feed(doctype, name, page_length=FEED_ITEMS_FOR_PREFERENCE, user="Administrator")
	preferred = preferred_channel_from_feed(feed)
	if frappe.db.get_value(doctype, name, "preferred_channel") != preferred:
		frappe.db.set_value(doctype, name, "preferred_channel", preferred, update_modified=False)


def preferred_channel_from_feed(feed: list[dict]) -> str | None:
	"""The engine's best channel that is a CRM Channel in use here (host-only channels are skipped)."""
	result = compute_preferred_channel(feed, as_of=now_datetime())
	enabled = set(frappe.get_all("CRM Channel", {"disabled": 0}, pluck="name"))
	ranked = [row["channel"] for row in result["channels"]]
	if result["preferred_channel"] is None:
		return None
	candidates = ranked[ranked.index(result["preferred_channel"]) :]
	return next((channel for channel in candidates if channel in enabled), None)


def nightly_refresh():
	"""Re-rank the parties whose feed changed since yesterday, in chunks on the long queue."""
	since = add_days(now_datetime(), -1)
	parties = set()
	for row in frappe.get_all(
		"CRM Activity", {"modified": (">=", since)}, ["reference_doctype", "reference_name"], distinct=True
	):
		parties.update(affected_parties(row.reference_doctype, row.reference_name))
	for row in frappe.get_all(
		"Communication",
		{"modified": (">=", since), "reference_doctype": ("in", PREFERENCE_PARTIES)},
		["reference_doctype", "reference_name"],
		distinct=True,
	):
		parties.add((row.reference_doctype, row.reference_name))
	ordered = sorted(parties)
	for start in range(0, len(ordered), NIGHTLY_CHUNK):
		frappe.enqueue(
			"crm_extension.activity_log.refresh.refresh_chunk",
			queue="long",
			parties=ordered[start : start + NIGHTLY_CHUNK],
		)


def refresh_chunk(parties: list[tuple[str, str]]):
	for doctype, name in parties:
		refresh_preferred_channel(doctype, name)
