"""Indexes the app adds to host tables so the activity feed reads by index; dropped on uninstall.

A timeline page asks each table for the newest rows about one document. Frappe indexes Communication,
ToDo and Comment by (reference doctype, reference name) only, so the database sorts a party's whole history
in that table for every page; with the timestamp as the index's last column it reads just the page.
Event Participants is indexed only by parent, so finding a party's events would scan the whole table.
"""

import frappe

TIMELINE_INDEX = "crm_extension_timeline_index"
EVENT_PARTICIPANT_INDEX = "crm_extension_reference_index"
HOST_INDEXES = {
	("Communication", TIMELINE_INDEX): (
		"reference_doctype",
		"reference_name",
		"communication_date",
	),
	("ToDo", TIMELINE_INDEX): ("reference_type", "reference_name", "creation"),
	("Comment", TIMELINE_INDEX): ("reference_doctype", "reference_name", "creation"),
	("Event Participants", EVENT_PARTICIPANT_INDEX): ("reference_doctype", "reference_docname"),
}


def make_host_indexes():
	for (doctype, index_name), columns in HOST_INDEXES.items():
		frappe.db.add_index(doctype, list(columns), index_name)


def drop_host_indexes():
	for doctype, index_name in HOST_INDEXES:
		if frappe.db.has_index(f"tab{doctype}", index_name):
			frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{index_name}`")


def present_host_indexes() -> list[str]:
	return [
		f"{doctype}.{index_name}"
		for doctype, index_name in HOST_INDEXES
		if frappe.db.has_index(f"tab{doctype}", index_name)
	]
