"""Finding the party behind a phone number, e-mail address or gateway sender id, as the host stores them.

Senders are looked up in the CRM Party Address index (``party_addresses``): one index range read by the
sender's keys (``engine.addresses.lookup_keys``), each candidate confirmed against the stored address, so a
delivery never scans Contacts, Leads or Customers. Contacts come before Leads before Customers, older first.
"""

import frappe

from crm_extension.activity_log import party_addresses
from crm_extension.activity_log.engine.addresses import is_same_address, lookup_keys


def find_party(kind: str | None, address: str | None, region: str | None, raw: str | None = None):
	"""(doctype, name) of the first Contact, Lead or Customer with this address, or None.

	``kind``/``address``: as ``classify_sender`` read the sender (None when it could not); ``raw``: the
	sender as the gateway sent it (needed when ``kind`` is None)."""
	raw = raw if raw is not None else address or ""
	for row in party_addresses.candidates(lookup_keys(kind, address, raw)):
		if is_same_address(kind, address, raw, row.kind, row.address, region):
			return row.party_doctype, row.party_name
	return None


def create_lead(kind: str | None, address: str, source) -> str:
	"""A Lead for a sender nobody knows yet, owned and sourced as the inbound source says. A sender the
	phone library could not read (``kind`` None) names the Lead with its raw address and is indexed as a
	sender id, so its next message finds the same Lead."""
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"lead_name": address[:140],
			"email_id": address if kind == "email" else None,
			"mobile_no": address if kind == "phone" else None,
			"source": source.lead_source,
			"lead_owner": source.lead_owner,
		}
	)
	lead.insert(ignore_permissions=True)
	if kind is None:
		party_addresses.add_sender("Lead", lead.name, address)
	return lead.name
