"""Factory helpers for the Frappe suite: real host documents with unique names, nothing mocked."""

import frappe
from frappe.utils import add_to_date, now_datetime


def unique(prefix: str) -> str:
	return f"{prefix} {frappe.generate_hash(length=8)}"


def default_company() -> str:
	return (
		frappe.defaults.get_defaults().get("company") or frappe.get_all("Company", pluck="name", limit=1)[0]
	)


def make_lead(**values):
	name = values.pop("lead_name", None) or unique("Lead")
	return frappe.get_doc({"doctype": "Lead", "lead_name": name, **values}).insert(ignore_permissions=True)


def make_customer(**values):
	name = values.pop("customer_name", None) or unique("Customer")
	return frappe.get_doc(
		{"doctype": "Customer", "customer_name": name, "customer_type": "Company", **values}
	).insert(ignore_permissions=True)


def make_contact(links: list[tuple[str, str]], email: str | None = None, phone: str | None = None):
	contact = frappe.get_doc({"doctype": "Contact", "first_name": unique("Contact")})
	for link_doctype, link_name in links:
		contact.append("links", {"link_doctype": link_doctype, "link_name": link_name})
	if email:
		contact.append("email_ids", {"email_id": email, "is_primary": 1})
	if phone:
		contact.append("phone_nos", {"phone": phone, "is_primary_mobile_no": 1})
	return contact.insert(ignore_permissions=True)


def make_opportunity(party_type: str, party_name: str, **values):
	return frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": party_type,
			"party_name": party_name,
			"company": default_company(),
			**values,
		}
	).insert(ignore_permissions=True)


def make_user(roles: list[str]) -> str:
	email = f"{frappe.generate_hash(length=10)}@crm-extension.test"
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": email,
			"first_name": "Test",
			"send_welcome_email": 0,
			"user_type": "System User",
		}
	)
	user.append_roles(*roles)
	user.insert(ignore_permissions=True)
	return email


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def make_assignment_rule(doctype: str, condition: str, users: list[str]) -> str:
	"""An active round-robin Assignment Rule on ``doctype`` for documents meeting ``condition``."""
	rule = frappe.get_doc(
		{
			"doctype": "Assignment Rule",
			"name": f"CRM test {frappe.generate_hash(length=8)}",
			"document_type": doctype,
			"description": "Assigned by a crm_extension test",
			"assign_condition": condition,
			"rule": "Round Robin",
			"users": [{"user": user} for user in users],
			"assignment_days": [{"day": day} for day in WEEKDAYS],
		}
	)
	return rule.insert(ignore_permissions=True).name


def restrict_user_to(user: str, doctype: str, name: str, only_on: str | None = None):
	"""A User Permission: the user sees only `name` among `doctype` records (on every DocType linking to it,
	or only on `only_on`)."""
	frappe.get_doc(
		{
			"doctype": "User Permission",
			"user": user,
			"allow": doctype,
			"for_value": name,
			"apply_to_all_doctypes": 0 if only_on else 1,
			"applicable_for": only_on,
		}
	).insert(ignore_permissions=True)


def make_activity(reference_doctype: str, reference_name: str, **values):
	return frappe.get_doc(
		{
			"doctype": "CRM Activity",
			"channel": values.pop("channel", "Phone"),
			"direction": values.pop("direction", "Outbound"),
			"activity_at": values.pop("activity_at", now_datetime()),
			"reference_doctype": reference_doctype,
			"reference_name": reference_name,
			**values,
		}
	).insert(ignore_permissions=True)


def hours_ago(hours: float):
	return add_to_date(now_datetime(), hours=-hours)


def make_inbound_source(**values):
	return frappe.get_doc(
		{
			"doctype": "CRM Inbound Source",
			"source_name": values.pop("source_name", None) or unique("Gateway"),
			"channel": values.pop("channel", "SMS"),
			"secret": values.pop("secret", "s3cret-" + frappe.generate_hash(length=12)),
			"create_lead_for_unknown": values.pop("create_lead_for_unknown", 1),
			"phone_region": "IR",
			**values,
		}
	).insert(ignore_permissions=True)
