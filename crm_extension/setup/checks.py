"""Read-only checks that the test command runs through `bench execute` around install, migrate and
uninstall. Each prints one JSON line."""

import hashlib
import json
from pathlib import Path

import frappe

from crm_extension.setup.custom_fields import custom_field_names
from crm_extension.setup.field_sync import STORE_PARENT
from crm_extension.setup.host_indexes import present_host_indexes
from crm_extension.setup.roles import APP_ROLES

APP = "crm_extension"
HOST_DOCTYPES = (
	"Lead",
	"Opportunity",
	"Customer",
	"Contact",
	"Quotation",
	"Sales Order",
	"Sales Invoice",
	"Payment Entry",
	"Communication",
	"Custom DocPerm",  # the app's permission rules (setup/permissions.py) must go with it
)


def app_doctypes() -> list[str]:
	"""DocType names as the app's source declares them (the database may no longer know them)."""
	names = []
	for path in Path(frappe.get_app_path(APP)).glob("*/doctype/*/*.json"):
		if path.stem == path.parent.name:
			names.append(json.loads(path.read_text())["name"])
	return sorted(names)


def app_modules() -> list[str]:
	lines = Path(frappe.get_app_path(APP, "modules.txt")).read_text().splitlines()
	return [line.strip() for line in lines if line.strip()]


def schema_fingerprint():
	"""A hash of everything migrate may write for this app; equal before and after a no-op migrate."""
	modules = app_modules()
	state = {
		"doctypes": frappe.get_all(
			"DocType", {"module": ("in", modules)}, ["name", "modified"], order_by="name"
		),
		"custom_fields": frappe.get_all(
			"Custom Field",
			{"fieldname": ("in", [fieldname for _, fieldname in custom_field_names()])},
			["name", "modified"],
			order_by="name",
		),
		"roles": frappe.get_all("Role", {"name": ("in", APP_ROLES)}, ["name", "modified"], order_by="name"),
		"patches": frappe.db.count("Patch Log", {"patch": ("like", f"{APP}.%")}),
		"workspaces": frappe.get_all(
			"Workspace", {"module": ("in", modules)}, ["name", "modified"], order_by="name"
		),
		"reports": frappe.get_all(
			"Report", {"module": ("in", modules)}, ["name", "modified"], order_by="name"
		),
	}
	digest = hashlib.sha256(json.dumps(state, default=str, sort_keys=True).encode()).hexdigest()[:16]
	print(digest)


def installed() -> dict:
	"""Whether the site has the app. Not from `bench list-apps`: it lists apps from Installed Applications,
	which Frappe refreshes only on migrate, so an app installed since the last migrate is missing there."""
	return {"installed": APP in frappe.get_installed_apps()}


# Columns a host row may change in without the app changing it: the record's bookkeeping and the desk's
# per-user markers (seen, likes, assignments, tags, comment counts).
VOLATILE_COLUMNS = frozenset(
	("modified", "modified_by", "_seen", "_comments", "_assign", "_liked_by", "_user_tags")
)


def host_schema() -> dict:
	"""Every table of the site except the app's own: its columns (name and type, in order) and its index
	names. Equal before install and after uninstall when uninstall removed every column and index it added."""
	app_tables = {f"tab{doctype}" for doctype in app_doctypes()}
	schema: dict[str, dict] = {}
	for table, column, column_type in frappe.db.sql(
		"""SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"""
	):
		if table not in app_tables:
			schema.setdefault(table, {"columns": [], "indexes": []})["columns"].append(
				f"{column} {column_type}"
			)
	for table, index in frappe.db.sql(
		"""SELECT DISTINCT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME"""
	):
		if table in schema:
			schema[table]["indexes"].append(index)
	return schema


def host_rows() -> dict:
	"""Per host DocType: the row count and a checksum of every row over the columns the app must not change
	(all but its own custom fields and VOLATILE_COLUMNS), so a changed value shows, not only a changed
	count."""
	app_columns = {(doctype, fieldname) for doctype, fieldname in custom_field_names()}
	return {
		doctype: _table_checksum(
			doctype,
			[
				column
				for column in _columns(doctype)
				if column not in VOLATILE_COLUMNS and (doctype, column) not in app_columns
			],
		)
		for doctype in HOST_DOCTYPES
	}


def _columns(doctype: str) -> list[str]:
	return frappe.db.sql_list(
		"""SELECT COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY COLUMN_NAME""",
		f"tab{doctype}",
	)


def _table_checksum(doctype: str, columns: list[str]) -> str:
	row = "CONCAT_WS(0x1f, " + ", ".join(f"IFNULL(`{column}`, 0x00)" for column in columns) + ")"
	# BIT_XOR of no rows is 0; the hex is taken in SQL (the driver may hand an unsigned 64-bit value over as
	# a float, which would round it).
	count, checksum = frappe.db.sql(
		f"""SELECT COUNT(*), LPAD(HEX(BIT_XOR(CAST(CONV(LEFT(SHA1({row}), 16), 16, 10) AS UNSIGNED))), 16, '0')
		FROM `tab{doctype}`"""
	)[0]
	return f"{count} rows, checksum {checksum.lower()}"


def host_record_counts():
	print(json.dumps({doctype: frappe.db.count(doctype) for doctype in HOST_DOCTYPES}, sort_keys=True))


def leftovers():
	"""What of the app is still in the site; printed as {} when nothing is."""
	modules = app_modules()
	found = {
		"module_defs": frappe.get_all("Module Def", {"app_name": APP}, pluck="name"),
		"doctypes": frappe.get_all("DocType", {"module": ("in", modules)}, pluck="name"),
		"tables": [doctype for doctype in app_doctypes() if frappe.db.table_exists(doctype)],
		"custom_fields": [
			f"{doctype}.{fieldname}"
			for doctype, fieldname in custom_field_names()
			if frappe.db.exists("Custom Field", {"dt": doctype, "fieldname": fieldname})
		],
		"roles": [role for role in APP_ROLES if frappe.db.exists("Role", role)],
		"workspaces": frappe.get_all("Workspace", {"module": ("in", modules)}, pluck="name"),
		"reports": frappe.get_all("Report", {"module": ("in", modules)}, pluck="name"),
		"number_cards": frappe.get_all("Number Card", {"module": ("in", modules)}, pluck="name"),
		"host_indexes": present_host_indexes(),
		"host_columns": [
			f"{doctype}.{fieldname}"
			for doctype, fieldname in custom_field_names()
			if fieldname in _columns(doctype)
		],
		"stored_definitions": frappe.get_all("DefaultValue", {"parent": STORE_PARENT}, pluck="defkey"),
	}
	print(json.dumps({kind: names for kind, names in found.items() if names}, sort_keys=True))
