"""Base class for the Frappe suite: FrappeTestCase on v15, IntegrationTestCase on v16 (renamed there)."""

try:
	from frappe.tests import IntegrationTestCase as CRMTestCase
except ImportError:
	from frappe.tests.utils import FrappeTestCase as CRMTestCase

__all__ = ["CRMTestCase"]
