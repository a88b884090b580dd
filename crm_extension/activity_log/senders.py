"""Finding the party behind a phone number or email address, as the host stores them.

Host records keep phone numbers as people typed them ("0912 123 4567", "+98 912..."), so candidates are
found by their last digits in SQL and confirmed by normalising each candidate with the same engine
function that normalised the sender.
"""

import frappe

from crm_extension.activity_log.engine.payload import normalise_phone

SUFFIX_DIGITS = 9

# (doctype, table holding the address, column, how to reach the party from a row)
PHONE_SOURCES = (
	("Contact", "Contact Phone", "phone", "parent"),
	("Lead", "Lead", "mobile_no", "name"),
	("Lead", "Lead", "whatsapp_no", "name"),
	("Lead", "Lead", "phone", "name"),
	("Customer", "Customer", "mobile_no", "name"),
)
EMAIL_SOURCES = (
	("Contact", "Contact Email", "email_id", "parent"),
	("Lead", "Lead", "email_id", "name"),
	("Customer", "Customer", "email_id", "name"),
)


def find_party(kind: str, address: str, region: str | None) -> tuple[str, str] | None:
	"""(doctype, name) of the first Contact, Lead or Customer with this address, in that order."""
	if kind == "email":
		return _find_by_email(address)
	if kind == "phone":
		return _find_by_phone(address, region)
	return None


def _find_by_email(email: str) -> tuple[str, str] | None:
	for doctype, table, column, party_column in EMAIL_SOURCES:
		name = frappe.db.sql(
			f"select {party_column} from `tab{table}` where {column} = %s order by creation limit 1",
			email,
			pluck=True,
		)
		if name:
			return doctype, name[0]
	return None


def _find_by_phone(e164: str, region: str | None) -> tuple[str, str] | None:
	suffix = "".join(ch for ch in e164 if ch.isdigit())[-SUFFIX_DIGITS:]
	for doctype, table, column, party_column in PHONE_SOURCES:
		candidates = frappe.db.sql(
			f"""select {party_column} as party, {column} as phone from `tab{table}`
			where {column} like %(last_four)s and regexp_replace({column}, '[^0-9]', '') like %(suffix)s
			order by creation limit 20""",
			{"last_four": f"%{suffix[-4:]}", "suffix": f"%{suffix}"},
			as_dict=True,
		)
		for row in candidates:
			if normalise_phone(row.phone, region) == e164:
				return doctype, row.party
	return None


def create_lead(kind: str, address: str, source) -> str:
	"""A Lead for a sender nobody knows yet, owned and sourced as the inbound source says."""
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"lead_name": address,
			"email_id": address if kind == "email" else None,
			"mobile_no": address if kind == "phone" else None,
			"source": source.lead_source,
			"lead_owner": source.lead_owner,
		}
	)
	lead.insert(ignore_permissions=True)
	return lead.name
