import frappe

from crm_extension.setup.custom_fields import custom_field_names
from crm_extension.setup.field_sync import delete_applied_definitions
from crm_extension.setup.host_indexes import drop_host_indexes
from crm_extension.setup.roles import APP_ROLES


def before_uninstall():
	delete_custom_fields()
	drop_host_indexes()
	delete_roles()
	delete_applied_definitions()


def delete_custom_fields():
	for doctype, fieldname in custom_field_names():
		name = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": fieldname})
		if name:
			frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
		frappe.clear_cache(doctype=doctype)


def delete_roles():
	for role in APP_ROLES:
		frappe.db.delete("Has Role", {"role": role})
		frappe.db.delete("Custom DocPerm", {"role": role})
		if frappe.db.exists("Role", role):
			frappe.delete_doc("Role", role, ignore_permissions=True, force=True)
