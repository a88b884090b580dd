from frappe.model.document import Document


class CRMPartyAddress(Document):
	"""Written by ``activity_log.party_addresses`` only (set-based), never edited in the desk."""


def on_doctype_update():
	import frappe

	frappe.db.add_index("CRM Party Address", ["party_doctype", "party_name"], index_name="party_index")
