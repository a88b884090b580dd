import json
from pathlib import Path
from unittest.mock import patch

import frappe

from crm_extension.setup.custom_fields import custom_field_names, get_custom_fields
from crm_extension.setup.field_sync import applied_definitions, store_applied_definitions
from crm_extension.setup.host_indexes import HOST_INDEXES, present_host_indexes
from crm_extension.setup.install import after_migrate
from crm_extension.setup.roles import APP_ROLES
from crm_extension.tests.factories import make_user
from crm_extension.tests.utils import CommittingTestCase, CRMTestCase


class TestInstall(CRMTestCase):
	def test_every_custom_field_exists_on_its_host_doctype(self):
		for doctype, fieldname in custom_field_names():
			self.assertTrue(
				frappe.get_meta(doctype).has_field(fieldname), f"{doctype}.{fieldname} was not created"
			)

	def test_feed_indexes_exist_on_host_tables(self):
		self.assertEqual(len(present_host_indexes()), len(HOST_INDEXES))

	def test_app_roles_exist(self):
		for role in APP_ROLES:
			self.assertTrue(frappe.db.exists("Role", role))

	def test_shipped_channels_exist(self):
		shipped = json.loads(
			Path(frappe.get_app_path("crm_extension", "activity_log/defaults/crm_channel.json")).read_text()
		)
		for record in shipped:
			self.assertTrue(frappe.db.exists("CRM Channel", record["name"]), record["name"])

	def test_migrate_hook_is_idempotent_and_keeps_user_edits(self):
		frappe.db.set_value("CRM Channel", "Telegram", "disabled", 1)
		modified_before = frappe.get_all(
			"Custom Field", {"dt": "Lead"}, ["name", "modified"], order_by="name"
		)

		after_migrate()
		after_migrate()

		self.assertEqual(frappe.db.get_value("CRM Channel", "Telegram", "disabled"), 1)
		self.assertEqual(
			frappe.get_all("Custom Field", {"dt": "Lead"}, ["name", "modified"], order_by="name"),
			modified_before,
		)
		frappe.db.set_value("CRM Channel", "Telegram", "disabled", 0)

	def test_sales_user_sees_the_crm_hub_workspace_in_the_sidebar(self):
		from frappe.desk.desktop import get_workspace_sidebar_items

		frappe.set_user(make_user(["Sales User"]))
		try:
			pages = get_workspace_sidebar_items()["pages"]
		finally:
			frappe.set_user("Administrator")

		self.assertIn("CRM Hub", [page.name for page in pages])

	def test_migrate_stores_missing_settings_defaults_and_keeps_set_values(self):
		frappe.db.delete("Singles", {"doctype": "Lead Scoring Settings", "field": "grade_a_score"})
		frappe.db.set_single_value("Lead Scoring Settings", "grade_b_score", 50)

		after_migrate()

		self.assertEqual(frappe.db.get_single_value("Lead Scoring Settings", "grade_a_score"), 70)
		self.assertEqual(frappe.db.get_single_value("Lead Scoring Settings", "grade_b_score"), 50)


class TestMigrateKeepsFieldCustomisations(CRMTestCase):
	"""A migrate changes an app field only where the app's own definition changed since the last one."""

	def setUp(self):
		# Frappe's schema sync re-declares Lead's decimal columns every time (DDL, which a test's transaction
		# refuses); what these tests check is the Custom Field records, not the schema.
		patcher = patch.object(frappe.local.db.__class__, "updatedb")
		patcher.start()
		self.addCleanup(patcher.stop)

	def test_migrate_keeps_a_label_and_list_view_an_administrator_set_on_an_app_field(self):
		# As the Custom Field form (or Customize Form, for a field that is not system generated) stores it.
		frappe.db.set_value("Custom Field", "Lead-lead_score", {"label": "Punkte", "in_list_view": 1})

		after_migrate()

		self.assertEqual(
			frappe.db.get_value("Custom Field", "Lead-lead_score", ["label", "in_list_view"]), ("Punkte", 1)
		)

	def test_migrate_keeps_a_property_setter_made_in_customize_form(self):
		from frappe.custom.doctype.property_setter.property_setter import make_property_setter

		make_property_setter("Lead", "lead_grade", "in_list_view", 0, "Check")
		make_property_setter("Lead", "lead_grade", "label", "Klasse", "Data")

		after_migrate()

		frappe.clear_cache(doctype="Lead")
		lead_grade = frappe.get_meta("Lead").get_field("lead_grade")
		self.assertEqual((lead_grade.in_list_view, lead_grade.label), (0, "Klasse"))

	def test_migrate_applies_only_what_the_apps_definition_changed(self):
		after_migrate()  # the definitions applied so far are on record
		# The site last applied an older definition (another description); an administrator renamed the field.
		applied = applied_definitions()
		applied["Lead.lead_score"] = {**applied["Lead.lead_score"], "description": "Old description"}
		store_applied_definitions(applied)
		frappe.db.set_value(
			"Custom Field", "Lead-lead_score", {"description": "Old description", "label": "Punkte"}
		)

		after_migrate()

		new_description = next(
			df["description"] for df in get_custom_fields()["Lead"] if df["fieldname"] == "lead_score"
		)
		self.assertEqual(
			frappe.db.get_value("Custom Field", "Lead-lead_score", ["description", "label"]),
			(new_description, "Punkte"),
		)
		self.assertEqual(applied_definitions()["Lead.lead_score"]["description"], new_description)


TEST_FIELD = {"fieldname": "crm_test_leftover", "label": "CRM Test Leftover", "fieldtype": "Data"}


class TestUninstallDropsColumns(CommittingTestCase):
	"""Deleting a Custom Field leaves its column and data in the host table: uninstall drops them."""

	def columns(self) -> list[str]:
		return frappe.db.sql_list(
			"""SELECT COLUMN_NAME FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tabToDo'"""
		)

	def drop_test_column(self):
		frappe.db.delete("Custom Field", {"dt": "ToDo", "fieldname": TEST_FIELD["fieldname"]})
		if TEST_FIELD["fieldname"] in self.columns():
			frappe.db.sql_ddl(f"ALTER TABLE `tabToDo` DROP COLUMN `{TEST_FIELD['fieldname']}`")
		frappe.clear_cache(doctype="ToDo")

	def test_uninstall_drops_the_columns_of_the_apps_custom_fields_from_host_tables(self):
		from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

		from crm_extension.setup import uninstall

		# Adding a column commits (DDL); the cleanup drops it whatever the test finds.
		self.addCleanup(self.drop_test_column)
		create_custom_fields({"ToDo": [TEST_FIELD]}, ignore_validate=True)
		self.assertIn("crm_test_leftover", self.columns())

		with patch.object(uninstall, "custom_field_names", return_value=[("ToDo", "crm_test_leftover")]):
			uninstall.delete_custom_fields()

		self.assertFalse(frappe.db.exists("Custom Field", {"dt": "ToDo", "fieldname": "crm_test_leftover"}))
		self.assertNotIn("crm_test_leftover", self.columns(), "the column was left in tabToDo")

	def test_a_column_a_standard_field_of_the_host_names_is_never_dropped(self):
		from crm_extension.setup import uninstall

		with patch.object(uninstall, "custom_field_names", return_value=[("ToDo", "description")]):
			uninstall.delete_custom_fields()

		self.assertIn("description", self.columns())
