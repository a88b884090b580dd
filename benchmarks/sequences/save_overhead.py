"""What sequences add to saving a Lead and to logging an activity: the same save with the app's sequence hooks
(an open enrollment exists, so each save queues its exit check after commit) and with them switched off
(``exits.queue_check`` replaced by a no-op), in alternating rounds so both see the same machine load.

Run by ``benchmarks/run.sh sequences`` (``site_call benchmarks.sequences.save_overhead run``). Each timed
unit is ``doc.save()`` or ``insert()`` plus the commit a request ends with (when the job is pushed). The
queued exit-check jobs are removed after each round, outside the timer. Everything made is deleted.
"""

import statistics
import time

import frappe

from benchmarks.common import report
from crm_extension.sequences import exits

PREFIX = "SQSAVE"
ROUNDS = 10
PER_ROUND = 20
TARGET_RATIO = 1.05
STATUSES = ("Open", "Replied")


def run(rounds: int = ROUNDS, per_round: int = PER_ROUND) -> dict:
	lead, sequence = seed()
	timings = {"lead_with": [], "lead_without": [], "activity_with": [], "activity_without": []}
	real_check = exits.queue_check
	try:
		for number in range(rounds):
			for sequences_on in (number % 2 == 0, number % 2 == 1):
				exits.queue_check = real_check if sequences_on else _no_check
				suffix = "with" if sequences_on else "without"
				timings[f"lead_{suffix}"] += [timed_lead_save(lead, i) for i in range(per_round)]
				timings[f"activity_{suffix}"] += [timed_activity(lead) for _ in range(per_round)]
				purge_exit_jobs()
	finally:
		exits.queue_check = real_check
		cleanup(lead, sequence)
	medians = {key: statistics.median(values) * 1000 for key, values in timings.items()}
	return report(
		{
			"saves_per_case": rounds * per_round,
			"median_ms": {key: round(value, 2) for key, value in medians.items()},
			"lead_save_ratio": round(medians["lead_with"] / medians["lead_without"], 3),
			"activity_log_ratio": round(medians["activity_with"] / medians["activity_without"], 3),
			"target_ratio": TARGET_RATIO,
		}
	)


def _no_check(doctype: str, name: str, concerns=None):
	return None


def seed():
	lead = frappe.get_doc(
		{"doctype": "Lead", "lead_name": f"{PREFIX} Lead", "email_id": "sqsave@example.com", "status": "Open"}
	).insert(ignore_permissions=True)
	sequence = frappe.get_doc(
		{
			"doctype": "CRM Sequence",
			"title": f"{PREFIX} {frappe.generate_hash(length=6)}",
			"steps": [{"step_type": "Call Task", "task_text": "Call", "delay_days": 30}],
		}
	).insert(ignore_permissions=True)
	from crm_extension.sequences.enrollment import enroll

	other = frappe.get_doc({"doctype": "Lead", "lead_name": f"{PREFIX} Enrolled"}).insert(
		ignore_permissions=True
	)
	enroll(sequence.name, "Lead", other.name)  # an open enrollment: the hooks queue their checks
	frappe.db.commit()  # the benchmark's own data, deleted in cleanup
	return lead.name, sequence.name


def timed_lead_save(lead: str, number: int) -> float:
	doc = frappe.get_doc("Lead", lead)
	doc.status = STATUSES[number % 2]  # a status change is what queues a Lead's exit check
	started = time.perf_counter()
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	return time.perf_counter() - started


def timed_activity(lead: str) -> float:
	channel = frappe.db.get_value("CRM Channel", {"channel_type": "Messaging", "disabled": 0})
	doc = frappe.get_doc(
		{
			"doctype": "CRM Activity",
			"channel": channel,
			"direction": "Inbound",
			"reference_doctype": "Lead",
			"reference_name": lead,
			"subject": "Reply",
		}
	)
	started = time.perf_counter()
	doc.insert(ignore_permissions=True)
	frappe.db.commit()
	return time.perf_counter() - started


def purge_exit_jobs():
	from frappe.utils.background_jobs import get_queue

	for queue_name in ("short", "long"):
		queue = get_queue(queue_name)
		for job_id in queue.get_job_ids():
			job = queue.fetch_job(job_id)
			if job and job.kwargs.get("site") == frappe.local.site and PREFIX in str(job.kwargs):
				queue.remove(job.id)
				job.delete()
			elif (
				job and job.kwargs.get("site") == frappe.local.site and "crm_sequence_exit" in (job.id or "")
			):
				queue.remove(job.id)
				job.delete()


def cleanup(lead: str, sequence: str):
	frappe.db.rollback()
	leads = frappe.get_all("Lead", filters={"lead_name": ("like", f"{PREFIX}%")}, pluck="name")
	frappe.db.delete("CRM Activity", {"reference_name": ("in", leads)})
	frappe.db.delete("CRM Sequence Enrollment", {"sequence": sequence})
	frappe.db.delete("Version", {"docname": ("in", leads)})
	contacts = frappe.get_all(
		"Dynamic Link",
		filters={"link_doctype": "Lead", "link_name": ("in", leads), "parenttype": "Contact"},
		pluck="parent",
	)
	for contact in set(contacts):
		frappe.delete_doc("Contact", contact, ignore_permissions=True, force=True)
	for name in leads:
		frappe.delete_doc("Lead", name, ignore_permissions=True, force=True)
	frappe.delete_doc("CRM Sequence", sequence, ignore_permissions=True, force=True)
	purge_exit_jobs()
	frappe.db.commit()
