"""Base class for the Frappe suite: FrappeTestCase on v15, IntegrationTestCase on v16 (renamed there)."""

import frappe

try:
	from frappe.tests import IntegrationTestCase as _FrameworkTestCase
except ImportError:
	from frappe.tests.utils import FrappeTestCase as _FrameworkTestCase


class CRMTestCase(_FrameworkTestCase):
	"""Everything a test class writes is rolled back afterwards, even where host code commits mid-request
	(ERPNext commits when it links a new Contact's phone number to past calls), so running the suite
	leaves the site's data as it was."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls._commit = frappe.db.commit
		frappe.db.commit = _rolled_back_later

	@classmethod
	def tearDownClass(cls):
		frappe.db.commit = cls._commit
		super().tearDownClass()


def _rolled_back_later(*args, **kwargs):
	pass


__all__ = ["CRMTestCase"]
