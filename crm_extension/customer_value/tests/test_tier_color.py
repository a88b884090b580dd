"""A tier's colour is a hex colour: validated when saved, and never handed to the Customer form otherwise."""

from itertools import count

import frappe

from crm_extension.api import customer_value as api
from crm_extension.tests.factories import make_customer, unique
from crm_extension.tests.utils import CRMTestCase

RANKS = count(90)  # rank is unique among tiers
HOSTILE = 'red;"><img src=x onerror=alert(1)>'


def make_tier(color: str | None = None):
	return frappe.get_doc(
		{
			"doctype": "Customer Value Tier",
			"tier_name": unique("Tier"),
			"rank": next(RANKS),
			"rule_type": "Share of Customers",
			"share": 5,
			"color": color,
		}
	).insert(ignore_permissions=True)


class TestTierColour(CRMTestCase):
	def test_a_tier_colour_that_is_not_a_hex_colour_is_refused(self):
		for colour in (HOSTILE, "red", "#12345", "url(javascript:alert(1))"):
			with self.subTest(colour=colour), self.assertRaises(frappe.ValidationError):
				make_tier(colour)

		self.assertEqual(make_tier("#1F77b4").color, "#1F77b4")
		self.assertEqual(make_tier("#fff").color, "#fff")

	def test_the_customer_profile_never_hands_out_a_stored_colour_that_is_not_hex(self):
		tier = make_tier("#336699")
		customer = make_customer().name
		frappe.db.set_value("Customer", customer, "value_tier", tier.name)
		self.assertEqual(api.profile(customer)["tier_color"], "#336699")

		frappe.db.set_value("Customer Value Tier", tier.name, "color", HOSTILE)  # written before validation

		self.assertIsNone(api.profile(customer)["tier_color"])
