"""Read-only checks that the test command runs through `bench execute` around install, migrate and
uninstall. Each prints one JSON line."""

import hashlib
import json
from pathlib import Path

import frappe

from crm_extension.setup.custom_fields import custom_field_names
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
	}
	print(json.dumps({kind: names for kind, names in found.items() if names}, sort_keys=True))
