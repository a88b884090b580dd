"""Indexes the app adds to host tables so the activity feed reads by index; dropped on uninstall.

Frappe indexes Event Participants only by parent, so finding the events a party took part in would scan
the whole table.
"""

import frappe

HOST_INDEXES = {
	("Event Participants", "crm_extension_reference_index"): ("reference_doctype", "reference_docname"),
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
