"""The app's custom fields kept in step with its code without undoing what an administrator changed.

Frappe's ``create_custom_fields(update=True)`` writes the app's whole definition over an existing field on
every migrate, reverting labels, ``in_list_view`` or a position set in the Custom Field form (or in
Customize Form, which edits a custom field that is not system generated in place). Here a migrate:

- creates the fields that are missing;
- changes an existing field only where the app's own definition changed since the definition last
  applied (kept per field in one DefaultValue row), and then only the properties that changed;
- never writes a Property Setter: Customize Form keeps its changes to a system-generated field there, and
  the meta applies them over the Custom Field whatever the app writes underneath.

A field present before its definition was recorded (a site from before this rule) is taken as it is: its
properties may be an administrator's, and the next change of the app's definition updates it.
"""

import json

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

STORE_PARENT = "__crm_extension"
STORE_KEY = "applied_custom_field_definitions"
# Properties of a field that its column depends on; a change of any other (a label) needs no schema sync.
SCHEMA_PROPERTIES = {"fieldtype", "length", "precision", "unique", "search_index", "default", "options"}


def sync_custom_fields(fields_by_doctype: dict[str, list[dict]]):
	applied = applied_definitions()
	current: dict[str, dict] = {}
	missing: dict[str, list[dict]] = {}
	for doctype, fields in fields_by_doctype.items():
		for df in fields:
			key, definition = f"{doctype}.{df['fieldname']}", _canonical(df)
			current[key] = definition
			name = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": df["fieldname"]})
			if not name:
				missing.setdefault(doctype, []).append(df)
			elif key in applied and applied[key] != definition:
				_update_field(name, changed_properties(applied[key], definition))
	if missing:
		create_custom_fields(missing, ignore_validate=True, update=False)
	if current != applied:
		store_applied_definitions(current)


def changed_properties(before: dict, after: dict) -> dict:
	"""What the app's definition changed: new values, and properties it no longer sets back to empty."""
	changed = {key: value for key, value in after.items() if before.get(key) != value}
	for key in before.keys() - after.keys():
		changed[key] = _empty_value(key)
	return changed


def _update_field(name: str, properties: dict):
	if not properties:
		return
	field = frappe.get_doc("Custom Field", name)
	field.update(properties)
	field.flags.ignore_validate = True
	frappe.flags.in_create_custom_fields = True  # no schema sync on save: done below when it is needed
	try:
		field.save(ignore_permissions=True)
	finally:
		frappe.flags.in_create_custom_fields = False
	frappe.clear_cache(doctype=field.dt)
	if SCHEMA_PROPERTIES & properties.keys():
		frappe.db.updatedb(field.dt)


def _empty_value(key: str):
	df = frappe.get_meta("Custom Field").get_field(key)
	return 0 if df and df.fieldtype in ("Check", "Int") else None


def _canonical(df: dict) -> dict:
	return json.loads(json.dumps(df, sort_keys=True))


def applied_definitions() -> dict[str, dict]:
	value = frappe.db.get_value("DefaultValue", {"parent": STORE_PARENT, "defkey": STORE_KEY}, "defvalue")
	return json.loads(value) if value else {}


def store_applied_definitions(definitions: dict[str, dict]):
	delete_applied_definitions()
	frappe.get_doc(
		{
			"doctype": "DefaultValue",
			"parent": STORE_PARENT,
			"parenttype": "__default",
			"parentfield": "system_defaults",
			"defkey": STORE_KEY,
			"defvalue": json.dumps(definitions, sort_keys=True, separators=(",", ":")),
		}
	).insert(ignore_permissions=True)


def delete_applied_definitions():
	frappe.db.delete("DefaultValue", {"parent": STORE_PARENT, "defkey": STORE_KEY})
