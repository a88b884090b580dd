"""Putting a party into a sequence and taking it out again.

One enrollment per party per sequence may be Active or Paused: ``active_key`` is unique while it is, and
cleared when the enrollment ends, so the database refuses a second one however many requests race.
"""

import frappe
from frappe import _
from frappe.query_builder import Order
from frappe.utils import now_datetime

from crm_extension.sequences.calendar import sending_calendar
from crm_extension.sequences.parties import ENROLLABLE_DOCTYPES, load_party
from crm_extension.sequences.senders import ensure_rows

ACTIVE, PAUSED, FINISHED, EXITED = "Active", "Paused", "Finished", "Exited"
OPEN_STATUSES = (ACTIVE, PAUSED)


def active_key(sequence: str, doctype: str, name: str) -> str:
	return f"{sequence}::{doctype}::{name}"


def enroll(sequence: str, doctype: str, name: str, sender: str | None = None) -> str:
	"""Enroll and return the enrollment's name; an open enrollment of the same party returns that one."""
	if existing := open_enrollment(sequence, doctype, name):
		return existing
	check_enrollable(sequence, doctype, name)
	party = load_party(doctype, name)
	first_step = frappe.get_all(
		"CRM Sequence Step",
		filters={"parent": sequence, "parenttype": "CRM Sequence"},
		fields=["delay_days"],
		order_by="idx asc",
		limit=1,
	)[0]
	now = now_datetime()
	doc = frappe.get_doc(
		{
			"doctype": "CRM Sequence Enrollment",
			"sequence": sequence,
			"reference_doctype": doctype,
			"reference_name": name,
			"party_title": party.title,
			"status": ACTIVE,
			"next_step": 1,
			"next_step_at": sending_calendar(party.company).due(now, first_step.delay_days, party.timezone),
			"sender": sender or frappe.session.user,
			"enrolled_on": now,
			"active_key": active_key(sequence, doctype, name),
			"in_other_sequence": int(bool(other_sequences(sequence, doctype, name))),
		}
	)
	frappe.db.savepoint("crm_sequence_enroll")
	try:
		doc.insert(ignore_permissions=True)  # the caller checked the party's permissions
		ensure_rows([doc.sender])
	except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
		# another request enrolled the party between our check and our insert
		frappe.db.rollback(save_point="crm_sequence_enroll")
		return open_enrollment(sequence, doctype, name)
	return doc.name


def check_enrollable(sequence: str, doctype: str, name: str):
	if doctype not in ENROLLABLE_DOCTYPES:
		frappe.throw(
			_("Only {0} can be enrolled in a sequence").format(
				", ".join(_(doctype) for doctype in ENROLLABLE_DOCTYPES)
			),
			title=_("Invalid Enrollment"),
		)
	enabled = frappe.db.get_value("CRM Sequence", sequence, "enabled")
	if enabled is None:
		frappe.throw(
			_("Sequence {0} does not exist").format(frappe.bold(sequence)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
	if not enabled:
		frappe.throw(
			_("Sequence {0} is disabled").format(frappe.bold(sequence)), title=_("Disabled Sequence")
		)
	if not frappe.db.exists(doctype, name):
		frappe.throw(
			_("{0} {1} does not exist").format(_(doctype), frappe.bold(name)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)


def open_enrollment(sequence: str, doctype: str, name: str) -> str | None:
	return frappe.db.get_value(
		"CRM Sequence Enrollment", {"active_key": active_key(sequence, doctype, name)}, "name"
	)


def other_sequences(sequence: str, doctype: str, name: str) -> list[str]:
	return frappe.get_all(
		"CRM Sequence Enrollment",
		filters={
			"reference_doctype": doctype,
			"reference_name": name,
			"status": ("in", OPEN_STATUSES),
			"sequence": ("!=", sequence),
		},
		pluck="sequence",
		order_by=None,
	)


def end_enrollments(names: list[str], status: str, reason: str, note: str | None = None) -> int:
	"""End open enrollments set-based (an exit or an unenroll); returns how many ended. Each change is kept
	as a Version, as a desk edit would be."""
	if not names:
		return 0
	enrollment = frappe.qb.DocType("CRM Sequence Enrollment")
	open_names = (
		frappe.qb.from_(enrollment)
		.select(enrollment.name)
		.where(enrollment.name.isin(names) & enrollment.status.isin(OPEN_STATUSES))
		.for_update()
		.run(pluck=True)
	)
	if not open_names:
		return 0
	now = now_datetime()
	(
		frappe.qb.update(enrollment)
		.set(enrollment.status, status)
		.set(enrollment.exit_reason, reason)
		.set(enrollment.exit_note, note)
		.set(enrollment.exited_on, now)
		.set(enrollment.next_step_at, None)
		.set(enrollment.waiting_for, None)
		.set(enrollment.active_key, None)
		.set(enrollment.modified, now)
		.set(enrollment.modified_by, frappe.session.user)
		.where(enrollment.name.isin(open_names))
		.run()
	)
	record_versions(open_names, status, reason)
	return len(open_names)


def record_versions(names: list[str], status: str, reason: str):
	for name in names:
		frappe.get_doc(
			{
				"doctype": "Version",
				"ref_doctype": "CRM Sequence Enrollment",
				"docname": name,
				"data": frappe.as_json(
					{"changed": [["status", None, status], ["exit_reason", None, reason]]}, indent=None
				),
			}
		).insert(ignore_permissions=True)


def set_paused(name: str, paused: bool):
	doc = frappe.get_doc("CRM Sequence Enrollment", name, for_update=True)
	if doc.status not in OPEN_STATUSES:
		frappe.throw(
			_("This enrollment has ended ({0})").format(_(doc.exit_reason or doc.status)),
			title=_("Enrollment Ended"),
		)
	if paused:
		doc.status, doc.waiting_for = PAUSED, _("Paused by {0}").format(frappe.session.user)
	elif doc.status == PAUSED:
		party = load_party(doc.reference_doctype, doc.reference_name)
		doc.status, doc.waiting_for = ACTIVE, None
		doc.next_step_at = sending_calendar(party.company if party else None).next_slot(
			max(now_datetime(), doc.next_step_at or now_datetime()), party.timezone if party else None
		)
	doc.save(ignore_permissions=True)
	return doc.name


def open_enrollments_of(refs: set[tuple[str, str]]) -> list[str]:
	"""Open enrollments of any of these (doctype, name) documents, one query per DocType."""
	names = []
	by_doctype: dict[str, set[str]] = {}
	for doctype, name in refs:
		if doctype in ENROLLABLE_DOCTYPES and name:
			by_doctype.setdefault(doctype, set()).add(name)
	enrollment = frappe.qb.DocType("CRM Sequence Enrollment")
	for doctype, docnames in by_doctype.items():
		names += (
			frappe.qb.from_(enrollment)
			.select(enrollment.name)
			.where(
				(enrollment.reference_doctype == doctype)
				& enrollment.reference_name.isin(list(docnames))
				& enrollment.status.isin(OPEN_STATUSES)
			)
			.orderby(enrollment.creation, order=Order.asc)
			.run(pluck=True)
		)
	return names
