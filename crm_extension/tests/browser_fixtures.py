"""Data for the browser check (scripts/browser_check.sh), created and removed through `bench execute`."""

import json

import frappe

from crm_extension.lead_scoring.scoring import score_leads

BROWSER_USER = "crm-browser-check@crm-extension.test"


def prepare():
	"""A desk user with a fresh password and a Lead with some activity; prints what the check needs."""
	password = frappe.generate_hash(length=16)
	if not frappe.db.exists("User", BROWSER_USER):
		user = frappe.get_doc(
			{"doctype": "User", "email": BROWSER_USER, "first_name": "Browser", "send_welcome_email": 0}
		)
		user.append_roles("Sales Manager", "Sales User", "CRM Extension Manager", "System Manager")
		user.insert(ignore_permissions=True)
	user = frappe.get_doc("User", BROWSER_USER)
	user.new_password = password
	user.save(ignore_permissions=True)
	lead = frappe.get_doc(
		{"doctype": "Lead", "lead_name": "Browser Check Lead", "email_id": "browser-check@example.com"}
	).insert(ignore_permissions=True)
	for channel, direction, subject in (
		("WhatsApp", "Outbound", "Sent the catalogue"),
		("WhatsApp", "Inbound", "Asked for a price <b>now</b>"),
		("Phone", "Outbound", "Follow-up call"),
	):
		frappe.get_doc(
			{
				"doctype": "CRM Activity",
				"channel": channel,
				"direction": direction,
				"subject": subject,
				"reference_doctype": "Lead",
				"reference_name": lead.name,
			}
		).insert(ignore_permissions=True)
	make_scoring_rules()
	score_leads([lead.name])
	frappe.db.commit()
	print(json.dumps({"user": BROWSER_USER, "password": password, "lead": lead.name}))


SCORING_RULES = (
	{
		"label": "Browser check: has an email",
		"rule_type": "Fit",
		"field": "email_id",
		"operator": "is set",
		"points": 30,
	},
	{
		"label": "Browser check: wrote back",
		"rule_type": "Engagement",
		"direction": "Inbound",
		"points": 25,
		"half_life_days": 14,
	},
)


def make_scoring_rules():
	for rule in SCORING_RULES:
		if not frappe.db.exists("Lead Scoring Rule", rule["label"]):
			frappe.get_doc({"doctype": "Lead Scoring Rule", **rule}).insert(ignore_permissions=True)


def cleanup():
	for lead in frappe.get_all("Lead", {"lead_name": "Browser Check Lead"}, pluck="name"):
		frappe.db.delete("CRM Activity", {"reference_doctype": "Lead", "reference_name": lead})
		frappe.db.delete("Lead Score Log", {"lead": lead})
		frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)
	for rule in SCORING_RULES:
		frappe.db.delete("Lead Scoring Rule", rule["label"])
	if frappe.db.exists("User", BROWSER_USER):
		frappe.delete_doc("User", BROWSER_USER, force=True, ignore_permissions=True)
	frappe.db.commit()
