"""The index of party addresses (CRM Party Address) the webhook looks senders up in.

A Contact's, Lead's or Customer's phone numbers and e-mail addresses are written as rows keyed by
``engine.addresses.stored_key`` whenever the party is saved (doc_events), removed when it is deleted and
renamed with it; ``rebuild_all`` fills the index for a site's existing parties (install and a patch). Rows of
kind ``sender`` are written by the webhook for a Lead it made for a gateway sender id and kept when the
Lead is saved.
"""

import frappe
from frappe.utils import now_datetime

from crm_extension.activity_log.engine.addresses import EMAIL, PHONE, SENDER, stored_key

DOCTYPE = "CRM Party Address"
FIELDS = (
	"name",
	"address_key",
	"kind",
	"address",
	"party_doctype",
	"party_name",
	"priority",
	"party_creation",
)
REBUILD_CHUNK = 5000

# party DocType: (priority, [(table, column, kind)]); a child table's rows belong to their parent
PARTY_SOURCES = {
	"Contact": (0, [("Contact Phone", "phone", PHONE), ("Contact Email", "email_id", EMAIL)]),
	"Lead": (
		1,
		[
			("Lead", "mobile_no", PHONE),
			("Lead", "whatsapp_no", PHONE),
			("Lead", "phone", PHONE),
			("Lead", "email_id", EMAIL),
		],
	),
	"Customer": (2, [("Customer", "mobile_no", PHONE), ("Customer", "email_id", EMAIL)]),
}
CHILD_TABLE_FIELDS = {"Contact Phone": "phone_nos", "Contact Email": "email_ids"}


def index_party(doc, method=None):
	"""Replace the party's phone and e-mail rows with what it stores now (on_update)."""
	if doc.doctype not in PARTY_SOURCES:
		return
	priority, sources = PARTY_SOURCES[doc.doctype]
	addresses = set()
	for table, column, kind in sources:
		values = (
			[row.get(column) for row in doc.get(CHILD_TABLE_FIELDS[table]) or []]
			if table in CHILD_TABLE_FIELDS
			else [doc.get(column)]
		)
		addresses.update((kind, value) for value in values if value)
	frappe.db.delete(DOCTYPE, {"party_doctype": doc.doctype, "party_name": doc.name, "kind": ("!=", SENDER)})
	_insert_rows(
		[(kind, value, doc.doctype, doc.name, priority, doc.creation) for kind, value in sorted(addresses)]
	)


def unindex_party(doc, method=None):
	frappe.db.delete(DOCTYPE, {"party_doctype": doc.doctype, "party_name": doc.name})


def party_renamed(doc, method=None, old: str | None = None, new: str | None = None, merge: bool = False):
	frappe.db.set_value(
		DOCTYPE, {"party_doctype": doc.doctype, "party_name": old}, "party_name", new, update_modified=False
	)


def add_sender(doctype: str, name: str, sender: str):
	"""Index a gateway sender id under the party the webhook filed it against."""
	creation = frappe.db.get_value(doctype, name, "creation")
	_insert_rows([(SENDER, sender, doctype, name, PARTY_SOURCES[doctype][0], creation)])


def candidates(keys: list[str]) -> list[dict]:
	"""Indexed rows under any of ``keys``, in the order the webhook prefers them (one index range read)."""
	if not keys:
		return []
	return frappe.db.sql(
		"""select party_doctype, party_name, address, kind from `tabCRM Party Address`
		where address_key in %(keys)s order by priority, party_creation limit 50""",
		{"keys": tuple(keys)},
		as_dict=True,
	)


def rebuild_all():
	"""Index every Contact's, Lead's and Customer's addresses (set-based reads, bulk inserts)."""
	frappe.db.delete(DOCTYPE, {"kind": ("!=", SENDER)})
	for doctype, (priority, sources) in PARTY_SOURCES.items():
		for table, column, kind in sources:
			party = "parent" if table in CHILD_TABLE_FIELDS else "name"
			join = (
				f"join `tab{doctype}` party on party.name = source.parent and source.parenttype = '{doctype}'"
				if table in CHILD_TABLE_FIELDS
				else f"join `tab{doctype}` party on party.name = source.name"
			)
			rows = frappe.db.sql(
				f"""select source.{column}, source.{party}, party.creation from `tab{table}` source {join}
				where coalesce(source.{column}, '') != ''"""
			)
			_insert_rows([(kind, value, doctype, name, priority, creation) for value, name, creation in rows])


def _insert_rows(rows: list[tuple]):
	now = now_datetime()
	values = []
	for kind, address, doctype, name, priority, creation in rows:
		key = stored_key(kind, address)
		if key:
			values.append(
				(frappe.generate_hash(length=12), key, kind, address[:320], doctype, name, priority, creation)
			)
	for start in range(0, len(values), REBUILD_CHUNK):
		frappe.db.bulk_insert(
			DOCTYPE,
			[*FIELDS, "creation", "modified", "owner", "modified_by"],
			[
				(*row, now, now, "Administrator", "Administrator")
				for row in values[start : start + REBUILD_CHUNK]
			],
		)
