"""Executing due steps, a chunk of enrollments per background job.

Each step executes exactly once whatever the number of workers: the enrollment row is locked and re-read
(a step whose enrollment moved on, ended or was paused while the job waited is skipped: an exit that
arrives while a step is queued wins), and the step's CRM Sequence Step Run is inserted under a unique key
(enrollment, step) in the same transaction as what the step creates.
"""

from dataclasses import dataclass, field
from datetime import datetime

import frappe
from frappe import _
from frappe.database.database import savepoint
from frappe.utils import add_to_date, get_url, now_datetime
from frappe.utils.password import get_encryption_key

from crm_extension.sequences.calendar import SendingCalendar, sending_calendar
from crm_extension.sequences.engine.links import rewrite_links, sign_link
from crm_extension.sequences.engine.steps import resolve_step_type, step_channel_type
from crm_extension.sequences.enrollment import ACTIVE, EXITED, FINISHED, end_enrollments
from crm_extension.sequences.exits import exit_reason_before_step
from crm_extension.sequences.parties import Party, load_parties
from crm_extension.sequences.senders import SenderSchedules

AUTOMATIC_EMAIL, MANUAL_EMAIL, WAIT = "Automatic Email", "Manual Email", "Wait"
CLICK_LINK_DAYS = 180
CLICK_ENDPOINT = "/api/method/crm_extension.api.sequence.click"
RETRY_MINUTES_WITHOUT_EMAIL_ACCOUNT = 60


@dataclass
class Chunk:
	now: datetime
	schedules: SenderSchedules | None = None
	steps: dict[str, list] = field(default_factory=dict)
	calendars: dict[str | None, SendingCalendar] = field(default_factory=dict)
	exit_stages: dict[str, str | None] = field(default_factory=dict)

	def sequence_steps(self, sequence: str) -> list:
		if sequence not in self.steps:
			self.steps[sequence] = frappe.get_all(
				"CRM Sequence Step",
				filters={"parent": sequence, "parenttype": "CRM Sequence"},
				fields=["*"],
				order_by="idx asc",
			)
			self.exit_stages[sequence] = frappe.db.get_value("CRM Sequence", sequence, "exit_on_stage")
		return self.steps[sequence]

	def __post_init__(self):
		self.schedules = self.schedules or SenderSchedules(self.now)

	def calendar(self, company: str | None) -> SendingCalendar:
		if company not in self.calendars:
			self.calendars[company] = sending_calendar(company)
		return self.calendars[company]


def execute_chunk(names: list[str]):
	"""A background job on the long queue: execute the due step of each enrollment; one failing enrollment
	is logged and rolled back alone."""
	chunk = Chunk(now=now_datetime())
	enrollments = frappe.get_all(
		"CRM Sequence Enrollment",
		filters={"name": ("in", names)},
		fields=["name", "reference_doctype", "reference_name", "sender"],
		order_by="next_step_at asc",
	)
	# every sender's schedule locked up front, in one order, so two chunks never wait for each other in a circle
	chunk.schedules.lock({row.sender for row in enrollments})
	parties = load_parties([(row.reference_doctype, row.reference_name) for row in enrollments])
	for row in enrollments:
		party = parties.get((row.reference_doctype, row.reference_name))
		save_point = f"crm_sequence_{frappe.generate_hash(length=8)}"
		frappe.db.savepoint(save_point)
		try:
			execute_enrollment(row.name, party, chunk)
		except Exception as error:
			frappe.db.rollback(save_point=save_point)
			frappe.log_error(
				title=_("Sequence step failed"),
				reference_doctype="CRM Sequence Enrollment",
				reference_name=row.name,
			)
			record_failure(row.name, party, chunk, error)
		else:
			frappe.db.release_savepoint(save_point)
	chunk.schedules.save()


def record_failure(name: str, party: Party | None, chunk: Chunk, error: Exception):
	"""A step that could not run (a template error, no email account, the host refusing the email) is
	recorded as Failed with its reason and handed to the salesperson as a ToDo; the sequence goes on, so it
	neither stalls on the same error every five minutes nor skips the step silently."""
	enrollment = locked_enrollment(name)
	if not enrollment or enrollment.status != ACTIVE or party is None:
		return
	steps = chunk.sequence_steps(enrollment.sequence)
	if enrollment.next_step > len(steps):
		return
	step = steps[enrollment.next_step - 1]
	reason = failure_reason(error)
	run = new_step_run(enrollment, step, step.step_type, None, chunk.now)
	run.status, run.error = "Failed", reason
	save_point = f"crm_sequence_failed_{frappe.generate_hash(length=8)}"
	frappe.db.savepoint(save_point)
	try:
		run.insert(ignore_permissions=True, set_name=frappe.generate_hash(length=12))
		run.db_set("todo", create_failure_task(run, enrollment, reason), update_modified=False)
		advance(enrollment, steps, chunk.calendar(party.company), party, chunk.now)
	except Exception:
		frappe.db.rollback(save_point=save_point)
		frappe.log_error(title=_("Sequence step failure could not be recorded"))
	else:
		frappe.db.release_savepoint(save_point)


def failure_reason(error: Exception) -> str:
	message = frappe.utils.strip_html_tags(str(error) or error.__class__.__name__).strip()
	return (message.splitlines() or [error.__class__.__name__])[0][:300]


def create_failure_task(run, enrollment, reason: str) -> str:
	heading = _("Step {0} of sequence {1} could not run: do it by hand").format(
		run.step_idx, enrollment.sequence
	)
	return (
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": enrollment.sender,
				"assigned_by": enrollment.sender,
				"reference_type": enrollment.reference_doctype,
				"reference_name": enrollment.reference_name,
				"description": f"<p><b>{frappe.utils.escape_html(heading)}</b></p>"
				f"<p>{frappe.utils.escape_html(reason)}</p>",
				"date": run.executed_at.date(),
				"priority": "High",
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def execute_enrollment(name: str, party: Party | None, chunk: Chunk) -> str | None:
	"""Execute the enrollment's due step if it is still due; returns what happened (for tests and logs)."""
	enrollment = locked_enrollment(name)
	if not enrollment or enrollment.status != ACTIVE or not enrollment.next_step_at:
		return None
	if enrollment.next_step_at > chunk.now:
		return None
	if party is None:
		end_enrollments([name], EXITED, "Unenrolled", _("The enrolled document was deleted"))
		return "exited"
	steps = chunk.sequence_steps(enrollment.sequence)
	if reason := exit_reason_before_step(enrollment, party, chunk.exit_stages.get(enrollment.sequence)):
		end_enrollments([name], EXITED, reason)
		return "exited"
	if enrollment.next_step > len(steps):
		end_enrollments([name], FINISHED, "Finished")
		return "finished"
	step = steps[enrollment.next_step - 1]
	calendar = chunk.calendar(party.company)
	slot = calendar.next_slot(chunk.now, party.timezone)
	if slot > chunk.now:
		return postpone(name, slot, _("the sending window"))
	step_type = resolve_step_type(
		step.step_type,
		bool(step.on_preferred_channel),
		party.preferred_channel_type,
		has_template=bool(step.email_template),
	)
	if step_type == AUTOMATIC_EMAIL and not party.email:
		step_type = MANUAL_EMAIL  # nobody to send to: the salesperson finds an address
	send_at = None
	if step_type == AUTOMATIC_EMAIL:
		send_at = chunk.schedules.next_send(
			enrollment.sender, calendar.window_close(chunk.now, party.timezone)
		)
		if send_at is None:
			wait_until = chunk.schedules.free_again(enrollment.sender)
			return postpone(
				name, calendar.next_slot(wait_until, party.timezone), _("the salesperson's sending limits")
			)
	run = new_step_run(enrollment, step, step_type, send_at, chunk.now)
	with savepoint(catch=(frappe.DuplicateEntryError, frappe.UniqueValidationError)):
		run.insert(ignore_permissions=True, set_name=frappe.generate_hash(length=12))
		carry_out(run, enrollment, step, party)
		advance(enrollment, steps, calendar, party, chunk.now)
		if send_at:
			chunk.schedules.reserve(enrollment.sender, send_at)
		return step_type
	return None  # another worker executed this step first


def locked_enrollment(name: str):
	enrollment = frappe.qb.DocType("CRM Sequence Enrollment")
	rows = (
		frappe.qb.from_(enrollment).select("*").where(enrollment.name == name).for_update().run(as_dict=True)
	)
	return rows[0] if rows else None


def new_step_run(enrollment, step, step_type: str, send_at, now):
	return frappe.get_doc(
		{
			"doctype": "CRM Sequence Step Run",
			"enrollment": enrollment.name,
			"sequence": enrollment.sequence,
			"step_idx": enrollment.next_step,
			"step_type": step_type,
			"channel_type": step_channel_type(step_type),
			"variant": enrollment.variant if step.variant_b_template else None,
			"reference_doctype": enrollment.reference_doctype,
			"reference_name": enrollment.reference_name,
			"sender": enrollment.sender,
			"executed_at": now,
			"send_at": send_at,
		}
	)


def carry_out(run, enrollment, step, party: Party):
	if run.step_type == AUTOMATIC_EMAIL:
		run.communication, message_id = send_email(run, enrollment, step, party)
		run.db_set("communication", run.communication, update_modified=False)
		frappe.db.set_value(
			"CRM Sequence Enrollment", enrollment.name, "last_message_id", message_id, update_modified=False
		)
	elif run.step_type != WAIT:
		run.todo = create_task(run, enrollment, step, party)
		run.db_set("todo", run.todo, update_modified=False)


def template_for(step, variant: str | None) -> str | None:
	if variant == "B" and step.variant_b_template:
		return step.variant_b_template
	return step.email_template


def render(template: str | None, reference_doctype: str, reference_name: str) -> dict:
	if not template:
		return {"subject": "", "message": ""}
	doc = frappe.get_doc(reference_doctype, reference_name)
	return frappe.get_doc("Email Template", template).get_formatted_email(doc.as_dict())


def send_email(run, enrollment, step, party: Party) -> tuple[str, str]:
	"""Through the host: a Communication on the party, queued in Email Queue from the sender's own email
	account (the host picks the account matching the sender), threaded under the previous sequence email."""
	from frappe.core.doctype.communication.email import _make
	from frappe.utils import get_formatted_email

	email = render(template_for(step, run.variant), enrollment.reference_doctype, enrollment.reference_name)
	secret = get_encryption_key().encode()
	expires = int(add_to_date(run.executed_at, days=CLICK_LINK_DAYS).timestamp())
	content = rewrite_links(
		email["message"],
		lambda url: get_url(f"{CLICK_ENDPOINT}?t={sign_link(url, run.name, secret, expires)}"),
	)
	made = _make(
		doctype=enrollment.reference_doctype,
		name=enrollment.reference_name,
		content=content,
		subject=email["subject"] or step.task_text or enrollment.sequence,
		sender=get_formatted_email(enrollment.sender),
		recipients=[party.email],
		send_email=False,
		email_template=template_for(step, run.variant),
		send_after=run.send_at,
	)
	communication = frappe.get_doc("Communication", made["name"])
	# the salesperson sent it (the job runs as Administrator): their timeline shows it as theirs
	communication.db_set("owner", enrollment.sender, update_modified=False)
	mail = communication.sendmail_input_dict()
	if not mail:
		frappe.throw(
			_("No outgoing email account for {0}").format(enrollment.sender), frappe.OutgoingEmailError
		)
	last = enrollment.last_message_id
	frappe.sendmail(**mail, in_reply_to=f"<{last}>" if last else None)
	return communication.name, communication.message_id


def create_task(run, enrollment, step, party: Party) -> str:
	"""A manual step is the salesperson's ToDo (the host's), on the party, due today."""
	text = step.task_text or ""
	if run.step_type == MANUAL_EMAIL and step.email_template:
		email = render(
			template_for(step, run.variant), enrollment.reference_doctype, enrollment.reference_name
		)
		text = f"{email['subject']}\n\n{frappe.utils.strip_html_tags(email['message'])}"
	heading = _("{0} (sequence {1}, step {2})").format(_(run.step_type), enrollment.sequence, run.step_idx)
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			"allocated_to": enrollment.sender,
			"assigned_by": enrollment.sender,
			"reference_type": enrollment.reference_doctype,
			"reference_name": enrollment.reference_name,
			"description": f"<p><b>{frappe.utils.escape_html(heading)}</b></p>"
			f"<p>{frappe.utils.escape_html(text).replace(chr(10), '<br>')}</p>",
			"date": run.executed_at.date(),
			"priority": "Medium",
		}
	)
	todo.insert(ignore_permissions=True)
	return todo.name


def advance(enrollment, steps: list, calendar: SendingCalendar, party: Party, now: datetime):
	following = enrollment.next_step + 1
	if following > len(steps):
		end_enrollments([enrollment.name], FINISHED, "Finished")
		return
	frappe.db.set_value(
		"CRM Sequence Enrollment",
		enrollment.name,
		{
			"next_step": following,
			"next_step_at": calendar.due(now, steps[following - 1].delay_days, party.timezone),
			"waiting_for": None,
		},
	)


def postpone(name: str, until: datetime, reason: str) -> str:
	frappe.db.set_value(
		"CRM Sequence Enrollment",
		name,
		{"next_step_at": until, "waiting_for": reason},
		update_modified=False,
	)
	return "postponed"
