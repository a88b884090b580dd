"""Which records the demo's screenshots open (scripts/demo_screenshots.py asks through bench execute)."""

import frappe

from crm_extension.demo.people import email
from crm_extension.demo.profiles import profile_for


def showcase(lang: str = "en") -> dict:
	"""A Sales User, one of their open Opportunities furthest along its playbook, and the most valuable
	Customer."""
	company = profile_for(lang).company
	user = email("sales1")
	opportunity = frappe.get_all(
		"Opportunity",
		{
			"company": company,
			"opportunity_owner": user,
			"status": ("not in", ("Converted", "Lost", "Closed")),
		},
		pluck="name",
		order_by="playbook_progress desc",
		limit=1,
	)
	customer = frappe.get_all(
		"Customer",
		{"value_tier": ("is", "set")},
		pluck="name",
		order_by="predicted_clv desc",
		limit=1,
	)
	return {
		"user": user,
		"opportunity": opportunity[0] if opportunity else None,
		"customer": customer[0] if customer else None,
	}
