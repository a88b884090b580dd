"""What uninstall undoes besides the app's own DocTypes (which Frappe drops): customers it moved into a
tier's Customer Group go back to their own group; its custom fields go with their columns and data in host
tables, and its indexes on host tables, its roles and its record of applied field definitions. Frappe's
uninstall takes a backup of the site first (unless ``--no-backup``)."""

import frappe

from crm_extension.customer_value.customer_groups import SYNCED, restore_customer_groups
from crm_extension.sales_playbook.guide import WIN_RATES_GLOBAL
from crm_extension.setup.custom_fields import custom_field_names
from crm_extension.setup.field_sync import delete_applied_definitions
from crm_extension.setup.host_indexes import drop_host_indexes
from crm_extension.setup.permissions import revoke_permissions
from crm_extension.setup.roles import APP_ROLES


def before_uninstall():
	restore_host_data()
	delete_custom_fields()
	drop_host_indexes()
	revoke_permissions()
	delete_roles()
	delete_applied_definitions()
	delete_learned_win_rates()


def delete_learned_win_rates():
	"""The playbook's learned win rates are kept as a global default (sales_playbook.guide)."""
	frappe.defaults.clear_default(WIN_RATES_GLOBAL, parent="__global")


def restore_host_data():
	"""What the app changed in host rows goes back while its columns still say how: customers a value tier
	moved into its Customer Group return to their own group (with ``modified`` and a Version each)."""
	if frappe.db.has_column("Customer", SYNCED):
		restore_customer_groups()


def delete_custom_fields():
	"""Deleting a Custom Field document leaves its column (and every value in it) in the host table on
	MariaDB: the columns go too, one ALTER per table. A column a field of the DocType still names (a
	standard field, or another app's custom field of that name) is never dropped."""
	fieldnames_by_doctype: dict[str, list[str]] = {}
	for doctype, fieldname in custom_field_names():
		fieldnames_by_doctype.setdefault(doctype, []).append(fieldname)
	for doctype, fieldnames in fieldnames_by_doctype.items():
		for name in frappe.get_all(
			"Custom Field", {"dt": doctype, "fieldname": ("in", fieldnames)}, pluck="name"
		):
			frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
		frappe.clear_cache(doctype=doctype)
		drop_columns(doctype, fieldnames)


def drop_columns(doctype: str, fieldnames: list[str]):
	still_named = {df.fieldname for df in frappe.get_meta(doctype, cached=False).fields}
	present = set(
		frappe.db.sql_list(
			"""SELECT COLUMN_NAME FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s""",
			f"tab{doctype}",
		)
	)
	columns = [name for name in fieldnames if name in present and name not in still_named]
	if columns:
		drops = ", ".join(f"DROP COLUMN `{column}`" for column in columns)
		frappe.db.sql_ddl(f"ALTER TABLE `tab{doctype}` {drops}")
		frappe.cache.hdel("table_columns", f"tab{doctype}")
		frappe.clear_cache(doctype=doctype)


def delete_roles():
	for role in APP_ROLES:
		frappe.db.delete("Has Role", {"role": role})
		frappe.db.delete("Custom DocPerm", {"role": role})
		if frappe.db.exists("Role", role):
			frappe.delete_doc("Role", role, ignore_permissions=True, force=True)
