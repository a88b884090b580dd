"""REST API for sequences: enroll, unenroll, pause, resume, status, and the click redirect of sequence emails.

Whitelisting only says who may call; each method checks the enrolled document's permissions itself.
"""

import json

import frappe
from frappe import _
from frappe.utils import now_datetime
from frappe.utils.password import get_encryption_key

from crm_extension.lead_scoring.jobs import queue_for_reference
from crm_extension.sequences.engine.links import verify_link
from crm_extension.sequences.enrollment import (
	EXITED,
	OPEN_STATUSES,
	end_enrollments,
	set_paused,
)
from crm_extension.sequences.enrollment import (
	enroll as enroll_party,
)
from crm_extension.sequences.parties import ENROLLABLE_DOCTYPES

MAX_BULK_ENROLL = 500


@frappe.whitelist(methods=["POST"])
def enroll(sequence: str, reference_doctype: str, reference_name: str) -> str:
	"""Enroll a Lead, Contact or Opportunity; returns the enrollment's name (the open one if there is one)."""
	check_party(reference_doctype, reference_name)
	frappe.has_permission("CRM Sequence Enrollment", "create", throw=True)
	return enroll_party(sequence, reference_doctype, reference_name, frappe.session.user)


@frappe.whitelist(methods=["POST"])
def enroll_many(sequence: str, reference_doctype: str, names: str | list) -> dict:
	"""From a list view: enroll each selected document the user may read; says which were refused."""
	if isinstance(names, str):
		try:
			names = json.loads(names)
		except ValueError:
			names = None
	if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
		frappe.throw(_("names must be a list of document names"), title=_("Invalid Request"))
	if len(names) > MAX_BULK_ENROLL:
		frappe.throw(
			_("At most {0} documents can be enrolled at once").format(MAX_BULK_ENROLL), title=_("Too Many")
		)
	frappe.has_permission("CRM Sequence Enrollment", "create", throw=True)
	enrolled, refused = [], []
	for name in dict.fromkeys(names):
		if frappe.db.exists(reference_doctype, name) and frappe.has_permission(
			reference_doctype, "read", name
		):
			enrolled.append(enroll_party(sequence, reference_doctype, name, frappe.session.user))
		else:
			refused.append(name)
	return {"enrolled": enrolled, "refused": refused}


@frappe.whitelist(methods=["POST"])
def unenroll(enrollment: str, reason: str | None = None) -> str:
	"""End an open enrollment by hand; the reason is kept as the exit note."""
	doc = enrollment_for_write(enrollment)
	if doc.status not in OPEN_STATUSES:
		frappe.throw(
			_("This enrollment has already ended ({0})").format(_(doc.exit_reason or doc.status)),
			title=_("Enrollment Ended"),
		)
	end_enrollments([doc.name], EXITED, "Unenrolled", (reason or "").strip()[:500] or None)
	return doc.name


@frappe.whitelist(methods=["POST"])
def pause(enrollment: str) -> str:
	return set_paused(enrollment_for_write(enrollment).name, True)


@frappe.whitelist(methods=["POST"])
def resume(enrollment: str) -> str:
	return set_paused(enrollment_for_write(enrollment).name, False)


@frappe.whitelist(methods=["GET", "POST"])
def status(reference_doctype: str, reference_name: str) -> list[dict]:
	"""The document's enrollments, open ones first, each with its next step and when it is due."""
	check_party(reference_doctype, reference_name)
	rows = frappe.get_all(
		"CRM Sequence Enrollment",
		filters={"reference_doctype": reference_doctype, "reference_name": reference_name},
		fields=[
			"name",
			"sequence",
			"status",
			"next_step",
			"next_step_at",
			"waiting_for",
			"sender",
			"enrolled_on",
			"exit_reason",
			"exited_on",
			"exit_note",
		],
		order_by="creation desc",
		limit=20,
	)
	open_count = sum(1 for row in rows if row.status in OPEN_STATUSES)
	steps = next_steps({(row.sequence, row.next_step) for row in rows if row.status in OPEN_STATUSES})
	for row in rows:
		step = steps.get((row.sequence, row.next_step)) if row.status in OPEN_STATUSES else None
		row["next_step_type"] = step.step_type if step else None
		row["total_steps"] = step_counts(row.sequence)
		row["is_open"] = row.status in OPEN_STATUSES
		# worked out now, so the first of two open enrollments is flagged as well as the second
		row["in_other_sequence"] = int(row["is_open"] and open_count > 1)
	rows.sort(key=lambda row: (not row["is_open"],))
	return rows


def next_steps(keys: set[tuple[str, int]]) -> dict:
	if not keys:
		return {}
	rows = frappe.get_all(
		"CRM Sequence Step",
		filters={"parent": ("in", list({sequence for sequence, _idx in keys})), "parenttype": "CRM Sequence"},
		fields=["parent", "idx", "step_type"],
		order_by=None,
	)
	return {(row.parent, row.idx): row for row in rows}


def step_counts(sequence: str) -> int:
	return frappe.db.count("CRM Sequence Step", {"parent": sequence, "parenttype": "CRM Sequence"})


def check_party(doctype: str, name: str):
	if doctype not in ENROLLABLE_DOCTYPES:
		frappe.throw(
			_("Only {0} can be enrolled in a sequence").format(
				", ".join(_(doctype) for doctype in ENROLLABLE_DOCTYPES)
			),
			title=_("Invalid Enrollment"),
		)
	if not frappe.db.exists(doctype, name):
		frappe.throw(
			_("{0} {1} does not exist").format(_(doctype), frappe.bold(name)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
	frappe.has_permission(doctype, "read", name, throw=True)


def enrollment_for_write(name: str):
	if not frappe.db.exists("CRM Sequence Enrollment", name):
		frappe.throw(
			_("Enrollment {0} does not exist").format(frappe.bold(name)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
	doc = frappe.get_doc("CRM Sequence Enrollment", name)
	# whoever may read the enrolled document may stop or pause its sequence, as they may log activities on it
	check_party(doc.reference_doctype, doc.reference_name)
	return doc


@frappe.whitelist(allow_guest=True, methods=["GET"])
def click(t: str | None = None):
	"""The signed redirect of a link in a sequence email: records the first click on the step and marks
	the Communication "Clicked" (the host keeps that status for integrations), then redirects. A tampered,
	expired or malformed link records nothing and redirects nowhere."""
	verified = verify_link(t or "", get_encryption_key().encode(), int(now_datetime().timestamp()))
	if not verified:
		frappe.local.response["http_status_code"] = 404
		frappe.local.response["message"] = _("This link is not valid or has expired")
		return
	url, step_run = verified
	record_click(step_run)
	# a GET request is rolled back unless it asks for a commit (frappe.app.sync_database)
	frappe.local.flags.commit = True
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = url


def record_click(step_run: str):
	run = frappe.db.get_value(
		"CRM Sequence Step Run",
		step_run,
		["name", "communication", "clicked_on", "reference_doctype", "reference_name"],
		as_dict=True,
	)
	if not run:
		return
	if not run.clicked_on:
		frappe.db.set_value(
			"CRM Sequence Step Run", run.name, "clicked_on", now_datetime(), update_modified=False
		)
		# lead scoring counts clicks (outcome "Clicked"): rescore the Lead the email was about
		queue_for_reference(run.reference_doctype, run.reference_name)
	if run.communication:
		frappe.db.set_value(
			"Communication", run.communication, "delivery_status", "Clicked", update_modified=False
		)


@frappe.whitelist(methods=["GET", "POST"])
def performance(sequence: str) -> dict:
	"""The numbers of the "Sequence Performance" report for one sequence, for the chart on its form."""
	from crm_extension.sequences.report.sequence_performance.sequence_performance import (
		get_chart,
		sequence_performance,
	)

	if not frappe.db.exists("CRM Sequence", sequence):
		frappe.throw(
			_("Sequence {0} does not exist").format(frappe.bold(sequence)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
	frappe.has_permission("CRM Sequence", "read", sequence, throw=True)
	performances = sequence_performance([sequence])
	return {
		"performance": performances[0] if performances else None,
		"chart": get_chart(performances, with_sequence=False),
	}
