"""Settings DocTypes (singles) get their field defaults stored when missing.

Frappe stores a single's defaults only when it is first saved, so on a site that gets a new settings
DocType through `bench migrate`, every value reads as empty until someone opens and saves the form.
Filling in only what is missing keeps what users set and makes a second migrate write nothing.
"""

import frappe


def fill_single_defaults():
	for doctype in frappe.get_all("DocType", {"issingle": 1, "module": ("in", app_modules())}, pluck="name"):
		stored = frappe.db.get_singles_dict(doctype)
		missing = {
			df.fieldname: df.default
			for df in frappe.get_meta(doctype).fields
			if df.default is not None and stored.get(df.fieldname) is None
		}
		if missing:
			frappe.db.set_single_value(doctype, missing)
			frappe.clear_document_cache(doctype, doctype)


def app_modules() -> list[str]:
	return frappe.get_all("Module Def", {"app_name": "crm_extension"}, pluck="name")
