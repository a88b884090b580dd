"""Sequences, templates and an outgoing email account for the Frappe tests of sequences."""

import frappe
from frappe.utils import add_to_date, now_datetime

from crm_extension.tests.factories import default_company, unique

TEST_EMAIL_ACCOUNT = "_CRM Sequence Test Outgoing"


def outgoing_email_account() -> str:
	"""An enabled default outgoing account, so the host queues sequence emails (nothing leaves a test)."""
	if not frappe.db.exists("Email Account", TEST_EMAIL_ACCOUNT):
		frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": TEST_EMAIL_ACCOUNT,
				"email_id": "sequences@crm-extension.invalid",
				"enable_outgoing": 1,
				"default_outgoing": 1,
				"smtp_server": "localhost",
				"no_smtp_authentication": 1,
				"awaiting_password": 0,
			}
		).insert(ignore_permissions=True)
	return TEST_EMAIL_ACCOUNT


def email_template(subject: str = "Hello {{ lead_name }}", body: str | None = None) -> str:
	body = body or '<p>Dear {{ lead_name }}, see <a href="https://example.com/offer?x=1">our offer</a>.</p>'
	return (
		frappe.get_doc(
			{
				"doctype": "Email Template",
				"name": unique("Sequence Template"),
				"subject": subject,
				"use_html": 1,
				"response_html": body,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def make_sequence(steps: list[dict], **values) -> str:
	doc = frappe.get_doc({"doctype": "CRM Sequence", "title": unique("Sequence"), "enabled": 1, **values})
	for step in steps:
		doc.append("steps", {"delay_days": 0, **step})
	return doc.insert(ignore_permissions=True).name


def make_due(enrollment: str):
	"""Make an enrollment's next step due now (tests do not wait for business days)."""
	frappe.db.set_value(
		"CRM Sequence Enrollment", enrollment, "next_step_at", add_to_date(now_datetime(), minutes=-1)
	)


def open_all_hours():
	"""A sending window of the whole day on every day, so a test's step is due whatever the clock says."""
	settings = frappe.get_doc("CRM Sequence Settings")
	settings.window_start, settings.window_end = "00:00:00", "23:59:59"
	settings.emails_per_day, settings.min_gap_seconds = 200, 0
	settings.company = default_company()
	settings.save(ignore_permissions=True)
	frappe.db.set_value("Company", settings.company, "default_holiday_list", None)
	frappe.clear_cache(doctype="Company")
	frappe.clear_document_cache("CRM Sequence Settings", "CRM Sequence Settings")
