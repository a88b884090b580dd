"""The permission rule the app adds on a host DocType: a Sales User may pick a Sales Stage, and uninstall
takes back exactly the rules the app made."""

import frappe

from crm_extension.setup.permissions import grant_permissions, granted_rules, revoke_permissions
from crm_extension.tests.factories import make_user
from crm_extension.tests.utils import CRMTestCase


def can(user: str, ptype: str) -> bool:
	frappe.clear_cache(doctype="Sales Stage")
	return bool(frappe.has_permission("Sales Stage", ptype, user=user))


class TestHostPermissions(CRMTestCase):
	def setUp(self):
		# a site with the standard rules only, as before install (rolled back after the class)
		revoke_permissions()
		frappe.db.delete("Custom DocPerm", {"parent": "Sales Stage"})

	def test_a_sales_user_may_select_a_sales_stage_but_not_edit_one(self):
		grant_permissions()
		user = make_user(["Sales User"])
		self.assertTrue(can(user, "select"))
		self.assertFalse(can(user, "write"))
		self.assertTrue(can(make_user(["Sales Manager"]), "write"))  # the copied standard rule

	def test_revoking_removes_exactly_the_rules_the_app_made(self):
		grant_permissions()
		made = granted_rules()
		self.assertTrue(made)
		others = set(frappe.get_all("Custom DocPerm", pluck="name")) - set(made)
		revoke_permissions()
		self.assertEqual(set(frappe.get_all("Custom DocPerm", pluck="name")), others)
		self.assertEqual(granted_rules(), [])
		self.assertFalse(can(make_user(["Sales User"]), "select"))
