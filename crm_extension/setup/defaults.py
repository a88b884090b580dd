"""Records the app ships (channels, knowledge, default playbook).

They are inserted when missing and never overwritten: users edit them, and Frappe's fixture sync would
delete and re-insert them on every migrate, undoing those edits.
"""

import json
from pathlib import Path

import frappe

SHIPPED_RECORD_FILES = ("activity_log/defaults/crm_channel.json",)


def insert_shipped_records():
	app_path = Path(frappe.get_app_path("crm_extension"))
	for relative_path in SHIPPED_RECORD_FILES:
		for record in json.loads((app_path / relative_path).read_text()):
			insert_if_missing(record)


def insert_if_missing(record: dict):
	if frappe.db.exists(record["doctype"], record["name"]):
		return
	doc = frappe.get_doc(record)
	doc.flags.name_set = True
	doc.insert(ignore_permissions=True, set_name=record["name"])
