"""The scheduler's part: find due steps with one indexed query and queue them in chunks on the long queue."""

import frappe
from frappe.utils import now_datetime

from crm_extension.sequences.enrollment import ACTIVE
from crm_extension.sequences.senders import ensure_rows

CHUNK_SIZE = 100
MAX_PER_RUN = 5000
CHUNK_TIMEOUT = 1500


def dispatch_due():
	"""Every five minutes (hooks.scheduler_events): queue the due enrollments, oldest first, in chunks. A
	chunk's job id is its first enrollment and due time, so a run that overlaps the previous one does not
	queue the same chunk twice; and if it did, each step still executes once (execute.py)."""
	for chunk in due_chunks():
		frappe.enqueue(
			"crm_extension.sequences.execute.execute_chunk",
			queue="long",
			timeout=CHUNK_TIMEOUT,
			job_id=f"crm_sequence_steps::{frappe.local.site}::{chunk[0]}",
			deduplicate=True,
			names=chunk,
		)


def due_chunks(limit: int = MAX_PER_RUN, size: int = CHUNK_SIZE) -> list[list[str]]:
	"""The oldest due enrollments, grouped by sender so that one salesperson's emails are mostly in one chunk
	(workers then rarely wait for each other's sender lock, execute.hold_sender_lock)."""
	enrollment = frappe.qb.DocType("CRM Sequence Enrollment")
	rows = (
		frappe.qb.from_(enrollment)
		.select(enrollment.name, enrollment.sender)
		.where((enrollment.status == ACTIVE) & (enrollment.next_step_at <= now_datetime()))
		.orderby(enrollment.next_step_at)
		.limit(limit)
		.run()
	)
	ensure_rows({sender for _name, sender in rows})
	names = [name for name, _sender in sorted(rows, key=lambda row: row[1] or "")]
	return [names[start : start + size] for start in range(0, len(names), size)]
