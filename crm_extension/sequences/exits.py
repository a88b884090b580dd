"""Ending enrollments when the party answers, meets, bounces, unsubscribes or the deal moves on.

Checked twice: after the event (doc_events queue the document with ``queue_check``, once per transaction, so
a save stays as fast as without sequences; the job calls the ``on_*`` function for it) and again right
before each step runs (``exit_reason_before_step``), so a reply that arrived while its check was still
queued, or that a hook missed (a Redis outage, a direct SQL import), still stops the sequence before the
next message goes out.
"""

from datetime import datetime

import frappe

from crm_extension.activity_log.engine.feed import canonical_channel_type
from crm_extension.activity_log.senders import find_party
from crm_extension.refresh_queue import queue_refresh
from crm_extension.sales_playbook.engine.knowledge import SALES_STAGES
from crm_extension.sequences.engine.exits import (
	activity_exit_reason,
	event_exit_reason,
	lead_exit_reason,
	opportunity_exit_reason,
)
from crm_extension.sequences.engine.replies import is_auto_reply
from crm_extension.sequences.enrollment import EXITED, end_enrollments, open_enrollments_of
from crm_extension.sequences.parties import ENROLLABLE_DOCTYPES

References = set[tuple[str, str]]


def exit_scope(doctype: str, name: str) -> References:
	"""The enrollable documents an event about (doctype, name) speaks for: a Lead's reply also ends the
	sequences of its Opportunities and Contacts, a Contact's those of the Opportunities it is the contact of."""
	refs = {(doctype, name)}
	if doctype in ("Lead", "Customer"):
		refs |= _pairs("Opportunity", {"opportunity_from": doctype, "party_name": name})
		refs |= _linked_contacts(doctype, name)
	if doctype == "Contact":
		refs |= _pairs("Opportunity", {"contact_person": name})
	if doctype == "Opportunity":
		party = frappe.db.get_value("Opportunity", name, ["opportunity_from", "party_name", "contact_person"])
		if party and party[0] == "Lead":
			refs.add(("Lead", party[1]))
		if party and party[2]:
			refs.add(("Contact", party[2]))
	return refs


def _pairs(doctype: str, filters: dict) -> References:
	return {(doctype, name) for name in frappe.get_all(doctype, filters=filters, pluck="name", order_by=None)}


def _linked_contacts(doctype: str, name: str) -> References:
	contacts = frappe.get_all(
		"Dynamic Link",
		filters={"parenttype": "Contact", "link_doctype": doctype, "link_name": name},
		pluck="parent",
		order_by=None,
	)
	return {("Contact", contact) for contact in contacts}


def exit_for(refs: References, reason: str) -> int:
	scope: References = set()
	for doctype, name in refs:
		if doctype and name:
			scope |= exit_scope(doctype, name)
	return end_enrollments(open_enrollments_of(scope), EXITED, reason)


# -- events ------------------------------------------------------------------------------------------------


def queue_check(doctype: str, name: str, concerns: References | None = None):
	"""Check this document's consequences for open enrollments after commit, in a worker. Queued only when
	one of the documents it ``concerns`` has an open enrollment (one index probe; any open enrollment at all
	when they are not enrollable documents or not known), so the saves of parties in no sequence push no
	job. An event about a party whose only enrollment is on a related document (a Lead's Opportunity) is
	found by the check before that enrollment's next step."""
	if open_enrollment_among(concerns):
		queue_refresh("sequence_exit", [(doctype, name)])


def open_enrollment_among(concerns: References | None) -> bool:
	enrollment = frappe.qb.DocType("CRM Sequence Enrollment")
	query = frappe.qb.from_(enrollment).select(enrollment.name).where(enrollment.status.isin(OPEN)).limit(1)
	refs = {(doctype, name) for doctype, name in concerns or () if doctype and name}
	if concerns is not None and not refs:
		return False
	if refs and all(doctype in ENROLLABLE_DOCTYPES for doctype, _name in refs):
		matches = [
			(enrollment.reference_doctype == doctype) & (enrollment.reference_name == name)
			for doctype, name in sorted(refs)
		]
		condition = matches[0]
		for match in matches[1:]:
			condition |= match
		query = query.where(condition)
	return bool(query.run())


def check_document(doctype: str, name: str) -> int:
	"""The queued job: what the document means for the enrollments of the parties it concerns."""
	handler = HANDLERS.get(doctype)
	if not handler or not frappe.db.exists(doctype, name):
		return 0
	return handler(frappe.get_doc(doctype, name))


def check_documents(parties: list[tuple[str, str]]) -> int:
	"""Under bulk load (refresh_queue's drain): the same, for a chunk of documents."""
	return sum(check_document(doctype, name) for doctype, name in parties)


def on_communication(doc) -> int:
	"""An email received from the party (in the thread, about the party, or from one of its addresses)."""
	if doc.communication_type != "Communication" or doc.sent_or_received != "Received":
		return 0
	if is_auto_reply({}, doc.subject) or is_auto_reply({}, _first_line(doc.content)):
		return 0
	refs: References = {(doc.reference_doctype, doc.reference_name)}
	refs |= {(link.link_doctype, link.link_name) for link in doc.get("timeline_links") or []}
	if doc.sender and (party := find_party("email", doc.sender.strip().lower(), None)):
		refs.add(party)
	ended = exit_for(refs, "Replied")
	if doc.in_reply_to:
		ended += _exit_thread(doc.in_reply_to)
	return ended


def _first_line(content: str | None) -> str:
	text = frappe.utils.strip_html_tags(content or "").strip()
	return text.splitlines()[0][:200] if text else ""


def _exit_thread(communication: str) -> int:
	enrollment = frappe.db.get_value("CRM Sequence Step Run", {"communication": communication}, "enrollment")
	return end_enrollments([enrollment], EXITED, "Replied") if enrollment else 0


def on_activity(doc) -> int:
	channel_type = canonical_channel_type(doc.channel_type) if doc.channel_type else None
	reason = activity_exit_reason(doc.direction, doc.outcome, channel_type)
	if not reason or not doc.reference_doctype:
		return 0
	return exit_for({(doc.reference_doctype, doc.reference_name)}, reason)


def on_call_log(doc) -> int:
	"""A call that was answered (a completed call with talk time) is the party answering."""
	if doc.status != "Completed" or not frappe.utils.flt(doc.duration):
		return 0
	return exit_for({(link.link_doctype, link.link_name) for link in doc.get("links") or []}, "Replied")


def on_event(doc) -> int:
	if not event_exit_reason(doc.status):
		return 0
	refs = {(row.reference_doctype, row.reference_docname) for row in doc.get("event_participants") or []}
	return exit_for(refs, "Meeting")


def on_email_unsubscribe(doc) -> int:
	if doc.reference_doctype and doc.reference_name and not doc.global_unsubscribe:
		return exit_for({(doc.reference_doctype, doc.reference_name)}, "Unsubscribed")
	return exit_for(parties_with_email(doc.email), "Unsubscribed")


def parties_with_email(email: str | None) -> References:
	if not email:
		return set()
	refs = _pairs("Lead", {"email_id": email}) | _pairs("Contact", {"email_id": email})
	return refs | _pairs("Opportunity", {"contact_email": email})


def on_lead_update(doc) -> int:
	reason = lead_exit_reason(doc.status, False, bool(doc.get("unsubscribed")))
	return exit_for({("Lead", doc.name)}, reason) if reason else 0


def on_opportunity_update(doc) -> int:
	enrollments = frappe.get_all(
		"CRM Sequence Enrollment",
		filters={"reference_doctype": "Opportunity", "reference_name": doc.name, "status": ("in", OPEN)},
		fields=["name", "sequence"],
		order_by=None,
	)
	ended = 0
	for row in enrollments:
		exit_stage = frappe.db.get_value("CRM Sequence", row.sequence, "exit_on_stage")
		reason = opportunity_exit_reason(doc.status, doc.sales_stage, exit_stage, stage_order())
		if reason:
			ended += end_enrollments([row.name], EXITED, reason)
	return ended


OPEN = ("Active", "Paused")


def stage_order() -> list[str]:
	"""The app's playbook stages in order, then any stage a site added (after them, in name order)."""
	known = list(SALES_STAGES)
	extra = sorted(set(frappe.get_all("Sales Stage", pluck="name")) - set(known))
	return known + extra


# -- before each step ---------------------------------------------------------------------------------------


def exit_reason_before_step(enrollment, party, exit_stage: str | None) -> str | None:
	"""The reason this enrollment must end now, from the documents as they are; None to go on."""
	doctype, name = enrollment.reference_doctype, enrollment.reference_name
	state = state_reason(doctype, name, exit_stage)
	if state:
		return state
	if party.email and _unsubscribed(party.email, doctype, name):
		return "Unsubscribed"
	if _bounced(enrollment.name):
		return "Bounced"
	return history_reason(exit_scope(doctype, name), enrollment.enrolled_on)


def state_reason(doctype: str, name: str, exit_stage: str | None) -> str | None:
	if doctype == "Lead":
		status, unsubscribed = frappe.db.get_value("Lead", name, ["status", "unsubscribed"])
		return lead_exit_reason(status, False, bool(unsubscribed))
	if doctype == "Opportunity":
		status, stage = frappe.db.get_value("Opportunity", name, ["status", "sales_stage"])
		return opportunity_exit_reason(status, stage, exit_stage, stage_order())
	if doctype == "Contact" and frappe.db.get_value("Contact", name, "unsubscribed"):
		return "Unsubscribed"
	return None


def _unsubscribed(email: str, doctype: str, name: str) -> bool:
	unsubscribe = frappe.qb.DocType("Email Unsubscribe")
	return bool(
		frappe.qb.from_(unsubscribe)
		.select(unsubscribe.name)
		.where(
			(unsubscribe.email == email)
			& (
				(unsubscribe.global_unsubscribe == 1)
				| ((unsubscribe.reference_doctype == doctype) & (unsubscribe.reference_name == name))
			)
		)
		.limit(1)
		.run()
	)


def _bounced(enrollment: str) -> bool:
	run = frappe.qb.DocType("CRM Sequence Step Run")
	communication = frappe.qb.DocType("Communication")
	return bool(
		frappe.qb.from_(run)
		.join(communication)
		.on(communication.name == run.communication)
		.select(run.name)
		.where((run.enrollment == enrollment) & (communication.delivery_status == "Bounced"))
		.limit(1)
		.run()
	)


def history_reason(refs: References, since: datetime) -> str | None:
	"""A reply, an answered call or a meeting with the party since it was enrolled that no hook reported."""
	for doctype, name in refs:
		activities = frappe.get_all(
			"CRM Activity",
			filters={"reference_doctype": doctype, "reference_name": name, "activity_at": (">=", since)},
			fields=["direction", "outcome", "channel_type"],
			order_by="activity_at asc",
			limit=50,
		)
		for row in activities:
			channel_type = canonical_channel_type(row.channel_type) if row.channel_type else None
			if reason := activity_exit_reason(row.direction, row.outcome, channel_type):
				return reason
		if _received_email_since(doctype, name, since):
			return "Replied"
	return None


def _received_email_since(doctype: str, name: str, since: datetime) -> bool:
	for row in frappe.get_all(
		"Communication",
		filters={
			"reference_doctype": doctype,
			"reference_name": name,
			"sent_or_received": "Received",
			"communication_type": "Communication",
			"creation": (">=", since),
		},
		fields=["subject", "content"],
		order_by="creation asc",
		limit=20,
	):
		if not (is_auto_reply({}, row.subject) or is_auto_reply({}, _first_line(row.content))):
			return True
	return False


HANDLERS = {
	"Communication": on_communication,
	"CRM Activity": on_activity,
	"Call Log": on_call_log,
	"Event": on_event,
	"Email Unsubscribe": on_email_unsubscribe,
	"Lead": on_lead_update,
	"Opportunity": on_opportunity_update,
}
