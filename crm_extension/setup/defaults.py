"""Records the app ships (channels, value tiers, knowledge, default playbook).

They are inserted when missing and never overwritten: users edit them, and Frappe's fixture sync would
delete and re-insert them on every migrate, undoing those edits.

A playbook is inserted once the Sales Stages its steps name exist: ERPNext creates them in its setup
wizard, which may run after the app is installed (the ``setup_wizard_complete`` hook inserts it then).

Seed files are inserted only while their DocType has no record at all: value tiers are a set users
re-rank, rename and delete, so a shipped tier must not come back (or clash on rank) on the next migrate.
"""

import json
from pathlib import Path

import frappe

from crm_extension.sales_playbook.shipped import shipped_records as playbook_records

SHIPPED_RECORD_FILES = ("activity_log/defaults/crm_channel.json",)
SEED_RECORD_FILES = ("customer_value/defaults/customer_value_tier.json",)


def insert_shipped_records():
	for record in _records(SHIPPED_RECORD_FILES):
		insert_if_missing(record)
	for relative_path in SEED_RECORD_FILES:
		records = _records((relative_path,))
		if records and not frappe.db.count(records[0]["doctype"]):
			for record in records:
				insert_if_missing(record)
	# Closing techniques, buyer personas and the default playbook, from sales_playbook/knowledge/.
	stages = set(frappe.get_all("Sales Stage", pluck="name"))
	for record in playbook_records():
		if {step.get("sales_stage") for step in record.get("steps", [])} <= stages:
			insert_if_missing(record)


def _records(relative_paths: tuple[str, ...]) -> list[dict]:
	app_path = Path(frappe.get_app_path("crm_extension"))
	return [record for path in relative_paths for record in json.loads((app_path / path).read_text())]


def insert_if_missing(record: dict):
	if frappe.db.exists(record["doctype"], record["name"]):
		return
	doc = frappe.get_doc(record)
	doc.flags.name_set = True
	doc.insert(ignore_permissions=True, set_name=record["name"])
