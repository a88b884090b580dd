"""Sequences at scale: 10,000 active enrollments, 1,000 steps due at once, executed by 2 worker processes,
against the floor of the same site's plain Email Queue insert of the same 1,000 emails (``frappe.sendmail``
from the same senders to the same recipients with the same rendered body), also from 2 processes.

Run by ``benchmarks/run.sh sequences`` (``site_call benchmarks.sequences.due_pass run``). Seeds Leads and
enrollments with multi-row INSERTs (``SQBENCH`` names), commits, measures, checks and removes everything it
made. The due pass is what the scheduler and its jobs do: the one indexed query (``dispatch.due_chunks``,
EXPLAIN recorded) and then ``execute.execute_chunk`` per chunk with a commit per chunk (as an RQ job ends),
the chunks shared by two processes through a queue. Checks after the pass:

- exactly once: 1,000 step runs, 1,000 Email Queue rows, no enrollment with two runs of a step;
- per-user limits exactly: per sender no two send times closer than the gap, at most the cap in 24 h;
- reply detection: 100 more due enrollments whose Lead sent an inbound message (a CRM Activity inserted and
  committed before the pass, its queued exit check NOT run, as if the scheduler tick came first): none of
  them may get an email.
"""

import itertools
import json
import multiprocessing
import os
import time
from datetime import timedelta

import frappe
from frappe.utils import add_to_date, now_datetime

from benchmarks.common import report

PREFIX = "SQBENCH"
ENROLLMENTS = 10_000
DUE = 1_000
REPLIED = 100
SENDERS = 10
WORKERS = 2
TARGET_RATIO = 5.0
MIN_GAP_SECONDS = 30
EMAILS_PER_DAY = 200


def run() -> dict:
	saved = save_settings()
	try:
		seeded = seed()
		frappe.db.commit()  # the benchmark's own data, removed below
		result = measure(seeded)
	finally:
		cleanup()
		restore_settings(saved)
		frappe.db.commit()
	return report(result)


# -- setup ---------------------------------------------------------------------------------------------------


def save_settings() -> dict:
	settings = frappe.get_single("CRM Sequence Settings")
	company = frappe.defaults.get_global_default("company")
	saved = {
		"settings": {
			f: settings.get(f)
			for f in ("window_start", "window_end", "emails_per_day", "min_gap_seconds", "company")
		},
		"company": company,
		"holiday_list": frappe.db.get_value("Company", company, "default_holiday_list"),
	}
	settings.update(
		{
			"window_start": "00:00:00",
			"window_end": "23:59:59",
			"emails_per_day": EMAILS_PER_DAY,
			"min_gap_seconds": MIN_GAP_SECONDS,
			"company": company,
		}
	)
	settings.save(ignore_permissions=True)
	# a benchmark run on a holiday must still have its steps due: the window is the whole day, every day
	frappe.db.set_value("Company", company, "default_holiday_list", None)
	frappe.db.commit()
	return saved


def restore_settings(saved: dict):
	frappe.db.set_value("Company", saved["company"], "default_holiday_list", saved["holiday_list"])
	for field, value in saved["settings"].items():
		frappe.db.set_single_value("CRM Sequence Settings", field, value)
	frappe.clear_cache(doctype="CRM Sequence Settings")


def seed() -> dict:
	account = outgoing_account()
	senders = [sender_user(number) for number in range(SENDERS)]
	template = frappe.get_doc(
		{
			"doctype": "Email Template",
			"name": f"{PREFIX} Intro",
			"subject": "Hello {{ lead_name }}",
			"use_html": 1,
			"response_html": '<p>Dear {{ lead_name }},</p><p>our <a href="https://example.com/catalogue">catalogue</a>.</p>',
		}
	).insert(ignore_permissions=True)
	sequence = frappe.get_doc(
		{
			"doctype": "CRM Sequence",
			"title": f"{PREFIX} Outreach",
			"steps": [
				{"step_type": "Automatic Email", "email_template": template.name},
				{"step_type": "Call Task", "task_text": "Call", "delay_days": 2},
			],
		}
	).insert(ignore_permissions=True)
	now = now_datetime()
	total = ENROLLMENTS + REPLIED
	insert_leads(total, senders, now)
	insert_enrollments(sequence.name, total, senders, now)
	replied = [enrollment_name(number) for number in range(ENROLLMENTS, total)]
	for number in range(ENROLLMENTS, total):
		frappe.get_doc(
			{
				"doctype": "CRM Activity",
				"channel": frappe.db.get_value("CRM Channel", {"channel_type": "Messaging", "disabled": 0}),
				"direction": "Inbound",
				"reference_doctype": "Lead",
				"reference_name": lead_name(number),
				"subject": "Yes, send me the offer",
				"activity_at": add_to_date(now, seconds=-30),
			}
		).insert(ignore_permissions=True)
	frappe.local.crm_refresh_pending = None  # the queued exit checks are not run: the tick comes first
	return {
		"sequence": sequence.name,
		"template": template.name,
		"senders": senders,
		"replied": replied,
		"account": account,
	}


def outgoing_account() -> str:
	name = f"{PREFIX} Outgoing"
	if not frappe.db.exists("Email Account", name):
		in_test = frappe.flags.in_test
		frappe.flags.in_test = True  # no SMTP connection test: nothing is sent, the queue is only filled
		try:
			frappe.get_doc(
				{
					"doctype": "Email Account",
					"email_account_name": name,
					"email_id": "sqbench@crm-extension.invalid",
					"enable_outgoing": 1,
					"default_outgoing": 1,
					"smtp_server": "localhost",
					"no_smtp_authentication": 1,
				}
			).insert(ignore_permissions=True)
		finally:
			frappe.flags.in_test = in_test
	return name


def sender_user(number: int) -> str:
	email = f"sqbench-{number}@crm-extension.invalid"
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": f"Seller {number}", "send_welcome_email": 0}
		)
		user.append("roles", {"role": "Sales User"})
		user.insert(ignore_permissions=True)
	return email


def lead_name(number: int) -> str:
	return f"{PREFIX}-L{number:06d}"


def enrollment_name(number: int) -> str:
	return f"{PREFIX}-E{number:06d}"


def insert_leads(total: int, senders: list[str], now):
	fields = [
		"name",
		"lead_name",
		"title",
		"email_id",
		"status",
		"lead_owner",
		"naming_series",
		"creation",
		"modified",
		"owner",
		"modified_by",
	]
	rows = [
		[
			lead_name(n),
			f"Buyer {n}",
			f"Buyer {n}",
			f"buyer{n}@example.com",
			"Lead",
			senders[n % SENDERS],
			"CRM-LEAD-.YYYY.-",
			now,
			now,
			"Administrator",
			"Administrator",
		]
		for n in range(total)
	]
	frappe.db.bulk_insert("Lead", fields, rows, chunk_size=2000)


def insert_enrollments(sequence: str, total: int, senders: list[str], now):
	fields = [
		"name",
		"sequence",
		"reference_doctype",
		"reference_name",
		"party_title",
		"status",
		"next_step",
		"next_step_at",
		"sender",
		"enrolled_on",
		"active_key",
		"variant",
		"creation",
		"modified",
		"owner",
		"modified_by",
	]
	due, later = add_to_date(now, minutes=-1), add_to_date(now, days=3)
	rows = []
	for n in range(total):
		is_due = n < DUE or n >= ENROLLMENTS
		rows.append([
			enrollment_name(n), sequence, "Lead", lead_name(n), f"Buyer {n}", "Active", 1, due if is_due else later,
			senders[n % SENDERS], add_to_date(now, minutes=-10), f"{sequence}::Lead::{lead_name(n)}", "A", now, now, "Administrator", "Administrator",
		])  # fmt: skip
	frappe.db.bulk_insert("CRM Sequence Enrollment", fields, rows, chunk_size=2000)


# -- measurement ---------------------------------------------------------------------------------------------


def measure(seeded: dict) -> dict:
	from crm_extension.sequences.dispatch import due_chunks

	started = time.perf_counter()
	chunks = due_chunks()
	find_seconds = time.perf_counter() - started
	explain = frappe.db.sql(
		"EXPLAIN SELECT name, sender FROM `tabCRM Sequence Enrollment` WHERE status='Active' AND next_step_at<=%s ORDER BY next_step_at LIMIT 5000",
		now_datetime(),
		as_dict=True,
	)
	recipients = email_recipients(seeded)
	frappe.db.commit()  # end this connection's snapshot, or it would not see what the workers commit
	due_pass_seconds = in_workers("chunks", chunks) + find_seconds
	floor_seconds = in_workers(
		"sendmail", [recipients[start : start + 100] for start in range(0, len(recipients), 100)]
	)
	frappe.db.commit()
	checks = check(seeded)
	return {
		"machine": {"cpus": os.cpu_count()},
		"enrollments": ENROLLMENTS + REPLIED,
		"due": DUE + REPLIED,
		"workers": WORKERS,
		"find_due_seconds": round(find_seconds, 4),
		"chunks": len(chunks),
		"due_pass_seconds": round(due_pass_seconds, 2),
		"email_queue_floor_seconds": round(floor_seconds, 2),
		"ratio": round(due_pass_seconds / floor_seconds, 2),
		"target_ratio": TARGET_RATIO,
		"explain": [{k: row.get(k) for k in ("table", "type", "key", "rows", "Extra")} for row in explain],
		**checks,
	}


def email_recipients(seeded: dict) -> list[list]:
	return [[f"buyer{n}@example.com", seeded["senders"][n % SENDERS], f"Buyer {n}"] for n in range(DUE)]


def in_workers(kind: str, chunks: list) -> float:
	"""Wall time for ``WORKERS`` processes sharing ``chunks`` through a queue (each connects on its own)."""
	context = multiprocessing.get_context("spawn")
	work = context.Queue()
	for chunk in chunks:
		work.put(chunk)
	for _ in range(WORKERS):
		work.put(None)
	site, sites_path = frappe.local.site, os.path.abspath(frappe.local.sites_path)
	processes = [context.Process(target=worker, args=(kind, site, sites_path, work)) for _ in range(WORKERS)]
	started = time.perf_counter()
	for process in processes:
		process.start()
	for process in processes:
		process.join()
	return time.perf_counter() - started


def worker(kind: str, site: str, sites_path: str, work):
	os.chdir(sites_path)
	frappe.init(site=site, sites_path=sites_path)
	frappe.connect()
	try:
		while (chunk := work.get()) is not None:
			if kind == "chunks":
				from crm_extension.sequences.execute import execute_chunk

				execute_chunk(chunk)
			else:
				send_plain(chunk)
			frappe.db.commit()  # as an RQ job ends
	finally:
		frappe.destroy()


def send_plain(rows: list[list]):
	"""The host's floor for the same emails: render the template, one Email Queue insert each."""
	from frappe.utils import get_formatted_email

	template = frappe.get_doc("Email Template", f"{PREFIX} Intro")
	for recipient, sender, name in rows:
		email = template.get_formatted_email({"lead_name": name})
		frappe.sendmail(
			recipients=[recipient],
			sender=get_formatted_email(sender),
			subject=email["subject"],
			message=email["message"],
			reference_doctype="Lead",
			reference_name=f"{PREFIX}-floor",
			delayed=True,
		)


def check(seeded: dict) -> dict:
	sequence = seeded["sequence"]
	runs = frappe.get_all(
		"CRM Sequence Step Run",
		filters={"sequence": sequence},
		fields=["enrollment", "step_idx", "sender", "send_at", "communication"],
	)
	per_enrollment = {}
	for run in runs:
		per_enrollment.setdefault((run.enrollment, run.step_idx), 0)
		per_enrollment[(run.enrollment, run.step_idx)] += 1
	communications = [run.communication for run in runs if run.communication]
	queued = (
		frappe.db.count("Email Queue", {"communication": ("in", communications)}) if communications else 0
	)
	gaps_ok, cap_ok, min_gap = True, True, None
	for sender in seeded["senders"]:
		times = sorted(run.send_at for run in runs if run.sender == sender and run.send_at)
		for earlier, later in itertools.pairwise(times):
			gap = (later - earlier).total_seconds()
			min_gap = gap if min_gap is None else min(min_gap, gap)
			gaps_ok &= gap >= MIN_GAP_SECONDS
		cap_ok &= all(
			sum(1 for t in times if start <= t < start + timedelta(hours=24)) <= EMAILS_PER_DAY
			for start in times
		)
	replied_emailed = frappe.db.count(
		"CRM Sequence Step Run", {"enrollment": ("in", seeded["replied"]), "communication": ("is", "set")}
	)
	replied_exited = frappe.db.count(
		"CRM Sequence Enrollment",
		{"name": ("in", seeded["replied"]), "status": "Exited", "exit_reason": "Replied"},
	)
	return {
		"step_runs": len(runs),
		"emails_queued": queued,
		"steps_run_twice": sum(1 for count in per_enrollment.values() if count > 1),
		"min_gap_seconds_seen": min_gap,
		"gap_respected": gaps_ok,
		"cap_respected": cap_ok,
		"replied_before_tick": len(seeded["replied"]),
		"replied_exited_before_step": replied_exited,
		"replied_but_emailed": replied_emailed,
	}


# -- cleanup -------------------------------------------------------------------------------------------------


def cleanup():
	frappe.db.rollback()
	like = f"{PREFIX}%"
	communications = frappe.get_all("Communication", filters={"reference_name": ("like", like)}, pluck="name")
	for start in range(0, len(communications), 1000):
		part = communications[start : start + 1000]
		frappe.db.delete("Email Queue", {"communication": ("in", part)})
		frappe.db.delete("Communication Link", {"parent": ("in", part)})
		frappe.db.delete("Communication", {"name": ("in", part)})
	frappe.db.delete("Email Queue", {"reference_name": f"{PREFIX}-floor"})
	enrollments = frappe.get_all("CRM Sequence Enrollment", filters={"name": ("like", like)}, pluck="name")
	frappe.db.delete("CRM Sequence Step Run", {"enrollment": ("in", enrollments or [""])})
	frappe.db.delete("ToDo", {"reference_name": ("like", like)})
	frappe.db.delete("CRM Activity", {"reference_name": ("like", like)})
	frappe.db.delete("Version", {"docname": ("in", enrollments or [""])})
	frappe.db.delete("CRM Sequence Enrollment", {"name": ("like", like)})
	frappe.db.delete("Lead", {"name": ("like", like)})
	for doctype in ("CRM Sequence", "Email Template"):
		for name in frappe.get_all(doctype, filters={"name": ("like", like)}, pluck="name"):
			frappe.delete_doc(doctype, name, ignore_permissions=True, force=True)
	if frappe.db.exists("Email Account", f"{PREFIX} Outgoing"):
		frappe.delete_doc("Email Account", f"{PREFIX} Outgoing", ignore_permissions=True, force=True)
	frappe.db.commit()


if __name__ == "__main__":
	print(json.dumps({"usage": "site_call benchmarks.sequences.due_pass run"}))
