"""Permission rules the app adds on host DocTypes, and takes back on uninstall.

A Sales User moves an Opportunity through the playbook's sales stages, but ERPNext v15 lets only a Sales
Manager read Sales Stage, so a Sales User's stage field answers 403 to its search and to its check. The app
lets Sales Users *select* a stage (pick it in a Link field; no list, no edits). Frappe applies a DocType's
Custom DocPerms instead of its standard rules once any exists, so granting first copies the standard rules
(``frappe.permissions.add_permission`` does); every rule made here is recorded, and uninstall deletes
exactly those, which puts a site that had no rules of its own back on the standard ones. A rule the site
already had for the role is left as it is and not recorded.
"""

import json

import frappe
from frappe.permissions import add_permission

from crm_extension.setup.field_sync import STORE_PARENT

GRANTS = (("Sales Stage", "Sales User", "select"),)
STORE_KEY = "granted_docperms"


def grant_permissions():
	made = set(granted_rules())
	for doctype, role, ptype in GRANTS:
		if not frappe.db.exists("DocType", doctype) or frappe.db.exists(
			"Custom DocPerm", {"parent": doctype, "role": role}
		):
			continue
		before = set(frappe.get_all("Custom DocPerm", {"parent": doctype}, pluck="name"))
		add_permission(doctype, role, ptype=ptype)
		made |= set(frappe.get_all("Custom DocPerm", {"parent": doctype}, pluck="name")) - before
		frappe.clear_cache(doctype=doctype)
	if made:
		store(sorted(made))


def revoke_permissions():
	rules = granted_rules()
	if rules:
		doctypes = set(frappe.get_all("Custom DocPerm", {"name": ("in", rules)}, pluck="parent"))
		frappe.db.delete("Custom DocPerm", {"name": ("in", rules)})
		for doctype in doctypes:
			frappe.clear_cache(doctype=doctype)
	frappe.db.delete("DefaultValue", {"parent": STORE_PARENT, "defkey": STORE_KEY})


def granted_rules() -> list[str]:
	value = frappe.db.get_value("DefaultValue", {"parent": STORE_PARENT, "defkey": STORE_KEY}, "defvalue")
	return json.loads(value) if value else []


def store(rules: list[str]):
	frappe.db.delete("DefaultValue", {"parent": STORE_PARENT, "defkey": STORE_KEY})
	frappe.get_doc(
		{
			"doctype": "DefaultValue",
			"parent": STORE_PARENT,
			"parenttype": "__default",
			"parentfield": "system_defaults",
			"defkey": STORE_KEY,
			"defvalue": json.dumps(rules),
		}
	).insert(ignore_permissions=True)
