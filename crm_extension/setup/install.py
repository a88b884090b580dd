import frappe

from crm_extension.activity_log.party_addresses import rebuild_all as rebuild_party_addresses
from crm_extension.setup.custom_fields import get_custom_fields
from crm_extension.setup.defaults import insert_shipped_records
from crm_extension.setup.field_sync import sync_custom_fields
from crm_extension.setup.host_indexes import make_host_indexes
from crm_extension.setup.permissions import grant_permissions
from crm_extension.setup.roles import APP_ROLES
from crm_extension.setup.single_defaults import fill_single_defaults


def before_install():
	# The app's DocTypes name these roles in their permissions, so they must exist before the sync.
	make_roles()


def after_install():
	make_custom_fields()
	make_host_indexes()
	grant_permissions()
	rebuild_party_addresses()
	fill_single_defaults()
	insert_shipped_records()


def after_setup_wizard(args=None):
	insert_shipped_records()  # the default playbook needs the Sales Stages the wizard has just made


def after_migrate():
	make_roles()
	make_custom_fields()
	make_host_indexes()
	grant_permissions()
	fill_single_defaults()
	insert_shipped_records()


def make_roles():
	for role in APP_ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert(
				ignore_permissions=True
			)


def make_custom_fields():
	"""Create missing fields; change one only where the app's definition of it changed since the last
	migrate, keeping what administrators changed (``field_sync``). A second migrate writes nothing."""
	sync_custom_fields(get_custom_fields())
