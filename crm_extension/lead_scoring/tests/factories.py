"""Lead scoring data for the Frappe suite: rules and decided leads, made through the real DocTypes."""

import frappe
from frappe.utils import add_days, now_datetime

from crm_extension.tests.factories import make_lead, unique


def clear_rules():
	"""Tests start from no rules; the test transaction is rolled back afterwards, so a site's own rules
	come back."""
	frappe.db.delete("Lead Scoring Rule")


def make_rule(**values):
	return frappe.get_doc(
		{"doctype": "Lead Scoring Rule", "label": unique("Rule"), "points": 10, **values}
	).insert(ignore_permissions=True)


def make_decided_leads(converted: int, lost: int, source_of_converted: str, source_of_lost: str) -> list[str]:
	"""Leads with a host outcome: Converted or Do Not Contact, decided over the last weeks."""
	names = []
	for index in range(converted + lost):
		is_converted = index < converted
		lead = make_lead(source=source_of_converted if is_converted else source_of_lost)
		decided = add_days(now_datetime(), -(index % 60) - 1)
		frappe.db.set_value(
			"Lead",
			lead.name,
			{"status": "Converted" if is_converted else "Do Not Contact", "modified": decided},
			update_modified=False,
		)
		names.append(lead.name)
	return names


def lead_source(name: str) -> str:
	if not frappe.db.exists("Lead Source", name):
		frappe.get_doc({"doctype": "Lead Source", "source_name": name}).insert(ignore_permissions=True)
	return name
