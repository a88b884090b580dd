"""What happens when Leads reach grade A: their owners hear of it (Frappe's Notification Log) and the host's
Assignment Rules on Lead are applied to them, as saving the Lead would.

A nightly run can lift hundreds of Leads into A at once (a first model moves every grade), so a chunk's
Leads are announced together: one query for their owners and one queued job for their notifications. A Lead
is loaded as a document only when the site has an active Assignment Rule on Lead to give it to.
"""

import frappe
from frappe import _
from frappe.cache_manager import get_doctype_map


def announce(leads: list[str], notify_owners: bool):
	"""Tell the owners of ``leads`` (when ``notify_owners``) and hand the Leads to the Assignment Rules."""
	if not leads:
		return
	if notify_owners and (notices := owner_notices(leads)):
		frappe.enqueue(
			"crm_extension.lead_scoring.grade_a.send_notices",
			queue="short",
			notices=notices,
			enqueue_after_commit=True,
			now=frappe.flags.in_test,
		)
	if lead_assignment_rules():
		# imported here: a scoring job (a fresh fork of its worker) without Assignment Rules never loads it
		from frappe.automation.doctype.assignment_rule.assignment_rule import apply

		for lead in leads:
			apply(doc=frappe.get_doc("Lead", lead))


def owner_notices(leads: list[str]) -> list[dict]:
	"""A notice per Lead whose owner (its Lead Owner, else who created it) is a person."""
	rows = frappe.db.sql(
		"select name, coalesce(nullif(lead_owner, ''), owner), lead_name from `tabLead` where name in %(leads)s",
		{"leads": tuple(leads)},
	)
	return [
		{"lead": name, "owner": owner, "title": title or name}
		for name, owner, title in rows
		if owner and owner != "Administrator"
	]


def send_notices(notices: list[dict]):
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	for notice in notices:
		make_notification_logs(
			frappe._dict(
				type="Alert",
				document_type="Lead",
				document_name=notice["lead"],
				subject=_("Lead {0} reached grade A: call it today").format(frappe.bold(notice["title"])),
				from_user="Administrator",
			),
			[notice["owner"]],
		)


def lead_assignment_rules() -> list:
	"""The active Assignment Rules on Lead, read as (and cached where) the host's ``apply`` reads them."""
	return get_doctype_map(
		"Assignment Rule", "Lead", filters={"document_type": "Lead", "disabled": 0}, order_by="priority desc"
	)
