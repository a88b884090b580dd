import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.utils import cstr

from crm_extension.activity_log.party_addresses import rebuild_all as rebuild_party_addresses
from crm_extension.setup.custom_fields import get_custom_fields
from crm_extension.setup.defaults import insert_shipped_records
from crm_extension.setup.host_indexes import make_host_indexes
from crm_extension.setup.roles import APP_ROLES
from crm_extension.setup.single_defaults import fill_single_defaults


def before_install():
	# The app's DocTypes name these roles in their permissions, so they must exist before the sync.
	make_roles()


def after_install():
	make_custom_fields()
	make_host_indexes()
	rebuild_party_addresses()
	fill_single_defaults()
	insert_shipped_records()


def after_setup_wizard(args=None):
	insert_shipped_records()  # the default playbook needs the Sales Stages the wizard has just made


def after_migrate():
	make_roles()
	make_custom_fields()
	make_host_indexes()
	fill_single_defaults()
	insert_shipped_records()


def make_roles():
	for role in APP_ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
				ignore_permissions=True
			)


def make_custom_fields():
	"""Create missing fields and update changed ones; untouched fields keep their `modified`, so a second
	migrate writes nothing."""
	create_custom_fields(_missing_or_changed(get_custom_fields()), ignore_validate=True, update=True)


def _missing_or_changed(fields_by_doctype: dict[str, list[dict]]) -> dict[str, list[dict]]:
	pending: dict[str, list[dict]] = {}
	for doctype, fields in fields_by_doctype.items():
		for df in fields:
			existing = frappe.db.get_value(
				"Custom Field", {"dt": doctype, "fieldname": df["fieldname"]}, list(df), as_dict=True
			)
			if not existing or any(cstr(existing.get(key)) != cstr(value) for key, value in df.items()):
				pending.setdefault(doctype, []).append(df)
	return pending
