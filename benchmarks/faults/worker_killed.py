"""A worker killed (SIGKILL, worker and work horse) in the middle of a full lead rescore and of a customer
value recompute. Run inside the site by ``benchmarks/faults/run.sh``; prints one JSON document.

The jobs run on a real RQ worker (a separate OS process, Frappe's ``execute_job`` in a forked work horse, as
``bench worker`` runs them) listening on a queue of this run's own, so no other site's job is taken and no
other worker takes ours: ``get_queue("long")`` is pointed at that queue in this process and in the worker.
Seeded rows carry the benchmarks' prefixes and are deleted at the end.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import frappe
import psutil
import pymysql
from frappe.utils import now_datetime
from frappe.utils.background_jobs import generate_qname, get_job, get_redis_conn
from rq import Queue
from rq.job import JobStatus

from benchmarks.common import report
from benchmarks.customer_value import recompute as value_bench
from benchmarks.lead_scoring import recompute as lead_bench
from crm_extension.customer_value import recompute as value_recompute
from crm_extension.lead_scoring import jobs, scoring

LEADS, ITEMS = 6000, 60_000
CUSTOMERS, LINES = 3000, 24_000
JOB_SIZE, INNER_CHUNK = 2000, 100  # a few chunk jobs, each writing twenty times in its one transaction
VALUE_CHUNK = 50
SCORE_COLUMNS = (*scoring.STORED_FIELDS[1:], *scoring.KEPT_POINT_FIELDS, "score_updated_on")
VALUE_COLUMNS = (
	"value_tier", "rfm_segment", "recency_days", "purchase_count", "monetary_value", "gross_margin",
	"predicted_clv", "probability_alive", "avg_days_to_pay", "value_updated_on",
)  # fmt: skip
WORKER = """
import sys, frappe
from unittest.mock import patch
from rq import Queue, Worker
site, name, inner = sys.argv[1:4]
with frappe.init_site(site):
	from frappe.utils.background_jobs import get_redis_conn
	connection = get_redis_conn()
import crm_extension.lead_scoring.jobs as jobs
jobs.CHUNK_SIZE = int(inner)
import crm_extension.customer_value.recompute as value
value.recompute.__defaults__ = (None, None, None, int(sys.argv[4]))  # queue_recompute's job, smaller chunks
queue = Queue(name, connection=connection)
with patch("frappe.utils.background_jobs.get_queue", lambda *a, **k: queue), patch.object(jobs, "get_queue", lambda *a, **k: queue):
	Worker([queue], connection=connection).work(logging_level="WARNING")
"""


def run() -> dict:
	queue = Queue(generate_qname(f"crm-faults-{frappe.local.site}"), connection=get_redis_conn())
	queue.empty()
	result = {"site": frappe.local.site, "machine_cores": os.cpu_count()}
	with private_long_queue(queue):
		try:
			return _both(queue, result)
		finally:
			stop_leftover_workers()
			queue.empty()


def _both(queue: Queue, result: dict) -> dict:
	try:
		result["lead_rescore"] = lead_rescore_killed(queue)
	finally:
		lead_bench.cleanup()
	try:
		result["customer_value_recompute"] = value_recompute_killed(queue)
	finally:
		value_bench.cleanup()
		frappe.db.commit()
	result["passed"] = passed(result)
	return report(result)


def passed(result: dict) -> bool:
	"""The kills landed inside a write; afterwards nothing half-written, locked or left over; the next runs
	completed."""
	lead, value = result["lead_rescore"], result["customer_value_recompute"]
	clean = {
		"open_transactions": 0,
		"innodb_lock_waits": 0,
		"other_connections": 0,
		"rq_started_registry_entries": 0,
		"job_ids_still_queued_or_started": 0,
	}
	lead_end = {**lead["check"], **lead["check"]["database_at_end"]}
	value_end = {**value["next_run"], **value["next_run"]["database_at_end"]}
	return (
		bool(lead["killed"]["rows_modified_by_the_killed_chunk_uncommitted"])
		and lead["check"]["rows_whole_after_kill"] == lead["check"]["leads"]
		and lead["after_kill"]["leads_of_the_killed_and_unstarted_chunks_not_as_before"] == 0
		and lead["next_run"]["all_chunks_finished"]
		and not lead["check"]["rescore_running_at_end"]
		and all(lead_end.get(key) == zero for key, zero in clean.items())
		and value["killed"]["caught_inside_its_transaction"]
		and value["after_kill"]["customer_values_checksum_as_before"]
		and value["after_kill"]["snapshots_as_before"]
		and value["after_kill"]["recompute_lock_free"]
		and value["next_run"]["job_status"] == "finished"
		and value["next_run"]["recompute_lock_free"]
		and all(value_end.get(key) == zero for key, zero in clean.items())
	)


@contextmanager
def private_long_queue(queue: Queue):
	fake = lambda *args, **kwargs: queue  # noqa: E731
	with (
		patch("frappe.utils.background_jobs.get_queue", fake),
		patch.object(jobs, "get_queue", fake),
		patch.object(jobs, "MAX_JOB_SIZE", JOB_SIZE),
	):
		yield


# --- the worker ------------------------------------------------------------------------------------------


_workers: list[subprocess.Popen] = []


def start_worker(queue: Queue) -> subprocess.Popen:
	_workers.append(worker := _popen_worker(queue))
	return worker


def stop_leftover_workers():
	"""Whatever failed on the way, no worker of this run outlives it."""
	for worker in _workers:
		if worker.poll() is None:
			kill(worker)


def _popen_worker(queue: Queue) -> subprocess.Popen:
	return subprocess.Popen(
		[sys.executable, "-c", WORKER, frappe.local.site, queue.name, str(INNER_CHUNK), str(VALUE_CHUNK)],
		cwd=frappe.local.sites_path,
		start_new_session=True,  # its own process group: the kill takes the worker and its work horse
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
	)


def kill(worker: subprocess.Popen):
	"""SIGKILL to the worker and its work horse (RQ starts the horse in a session of its own)."""
	for horse in psutil.Process(worker.pid).children(recursive=True):
		horse.kill()
	os.killpg(worker.pid, signal.SIGKILL)
	worker.wait()


def stop(worker: subprocess.Popen):
	os.killpg(worker.pid, signal.SIGTERM)
	worker.wait(timeout=120)


def wait_for(condition, timeout: float, step: float = 0.02):
	started = time.monotonic()
	while time.monotonic() - started < timeout:
		if value := condition():
			return value
		time.sleep(step)
	return None


def status(job_id: str) -> str | None:
	job = get_job(job_id)
	return job.get_status(refresh=True) if job else None


# --- the database's view ------------------------------------------------------------------------------------


_observer = None


def observe(query: str, params=()) -> tuple:
	"""The server's view (information_schema's transactions and connections need the PROCESS privilege,
	which a site's database user lacks): a root connection of its own, autocommit, so every read is fresh.
	Connections of this process are left out by their ids."""
	global _observer
	if _observer is None:
		_observer = pymysql.connect(
			host=frappe.conf.db_host or "localhost",
			port=int(frappe.conf.db_port or 3306),
			user="root",
			password=os.environ.get("CRM_DB_ROOT_PASSWORD", "admin"),
			autocommit=True,
		)
	with _observer.cursor() as cursor:
		cursor.execute(query, params)
		return cursor.fetchall()


def _mine() -> int:
	return frappe.db.sql("select connection_id()")[0][0]


def others_write_transaction() -> int:
	"""Rows modified by the biggest open transaction of another connection on this site's database."""
	rows = observe(
		"""select max(t.trx_rows_modified) from information_schema.innodb_trx t
		join information_schema.processlist p on p.id = t.trx_mysql_thread_id
		where p.db = %s and p.id != %s""",
		(frappe.conf.db_name, _mine()),
	)
	return int(rows[0][0] or 0)


# InnoDB refreshes what information_schema.innodb_trx shows only when it was last read more than 0.1 s ago:
# a poll every 5 ms reads the same stale view for ever (an earlier version of this script did, and its kills
# never landed inside a write).
TRX_POLL_SECONDS = 0.15


class Watch:
	"""Polls the rows another connection's open transaction has modified; keeps the last value."""

	def __init__(self):
		self.polls, self.last = 0, 0

	def rows(self) -> int:
		self.polls += 1
		self.last = others_write_transaction()
		return self.last


def database_state() -> dict:
	"""What another connection of this site's database still holds: open transactions, row locks waited
	on, metadata locks, connections."""
	frappe.db.commit()
	db, mine = frappe.conf.db_name, _mine()
	transactions = observe(
		"""select count(*) from information_schema.innodb_trx t
		join information_schema.processlist p on p.id = t.trx_mysql_thread_id
		where p.db = %s and p.id != %s""",
		(db, mine),
	)[0][0]
	lock_waits = observe(
		"""select count(*) from information_schema.innodb_lock_waits w
		join information_schema.innodb_trx t on t.trx_id = w.requesting_trx_id
		join information_schema.processlist p on p.id = t.trx_mysql_thread_id
		where p.db = %s""",
		(db,),
	)[0][0]
	connections = observe(
		"select count(*) from information_schema.processlist where db = %s and id != %s", (db, mine)
	)[0][0]
	try:
		metadata_locks = observe(
			"select count(*) from information_schema.metadata_lock_info where table_schema = %s", (db,)
		)[0][0]
	except pymysql.MySQLError:
		metadata_locks = "metadata_lock_info plugin not loaded"
	return {
		"open_transactions": transactions,
		"innodb_lock_waits": lock_waits,
		"metadata_locks": metadata_locks,
		"other_connections": connections,
	}


def rows_by_name(table: str, columns, where: str, params=()) -> dict[str, str]:
	"""Each row's columns as one digest, by name."""
	frappe.db.commit()
	select = ", ".join(f"`{column}`" for column in columns)
	return {
		row[0]: hashlib.md5(repr(row[1:]).encode()).hexdigest()
		for row in frappe.db.sql(f"select name, {select} from `{table}` where {where}", params)
	}


def checksum(rows: dict[str, str]) -> str:
	return hashlib.md5("".join(f"{k}{v}" for k, v in sorted(rows.items())).encode()).hexdigest()


# --- a full lead rescore ------------------------------------------------------------------------------------


def seeded_scores(columns=SCORE_COLUMNS) -> dict[str, str]:
	return rows_by_name("tabLead", columns, "name like %s", (lead_bench.PREFIX + "%",))


def seeded_values() -> dict[str, str]:
	"""What a scoring as of a given time writes whatever came before: score, grade, probability, breakdown
	(the kept trend point and ``score_updated_on`` depend on the runs before)."""
	return seeded_scores(scoring.STORED_FIELDS[1:])


def lead_rescore_killed(queue: Queue) -> dict:
	lead_bench.cleanup()
	frappe.db.commit()
	started = time.perf_counter()
	seeded = lead_bench.seed(LEADS, ITEMS)
	lead_bench.add_rules()
	frappe.db.commit()
	jobs.score_chunk(frappe.get_all("Lead", pluck="name", order_by="name"))  # the previous scores
	frappe.db.commit()
	previous = seeded_scores()
	logs_before = frappe.db.count("Lead Score Log")
	later = str(now_datetime() + timedelta(days=30))  # decay moves most scores
	result = {
		"seeded": {"leads": seeded["leads"], "feed_items": seeded["feed_items"]},
		"seed_and_first_scoring_seconds": round(time.perf_counter() - started, 1),
		"previous_scores_checksum": checksum(previous),
	}

	worker = start_worker(queue)
	try:
		return _killed_and_next_run(queue, worker, previous, logs_before, later, result)
	finally:
		if worker.poll() is None:
			kill(worker)


def _killed_and_next_run(queue, worker, previous, logs_before, later, result) -> dict:
	run_started = time.perf_counter()
	ids = jobs.rescore_all(as_of=later)
	chunk_ids = [jobs.chunk_job_id(n) for n in range(1, len(ids) + 1)]
	result["chunk_jobs"] = len(ids)
	result["manual_rescore_all_during_run_queued"] = len(jobs.rescore_all())  # deferred: 0
	killed_chunk, killed_rows, watch = kill_inside_a_write(worker, chunk_ids)
	statuses = [status(job_id) for job_id in chunk_ids]
	result["killed"] = {
		"seconds_after_the_run_started": round(time.perf_counter() - run_started, 2),
		"killed_chunk": killed_chunk,
		"chunk_statuses_at_kill": statuses,
		"rows_modified_by_the_killed_chunk_uncommitted": killed_rows,
		"polls_of_innodb_trx": watch.polls,
	}
	rollback_started = time.perf_counter()
	wait_for(lambda: not database_state()["open_transactions"], timeout=120, step=TRX_POLL_SECONDS)
	result["after_kill"] = {
		"seconds_until_no_open_transaction": round(time.perf_counter() - rollback_started, 2),
		**database_state(),
	}
	after_kill, after_kill_values = seeded_scores(), seeded_values()
	committed = {
		lead
		for job_id, state in zip(chunk_ids, statuses, strict=True)
		if state == JobStatus.FINISHED
		for lead in get_job(job_id).kwargs["kwargs"]["leads"]
	}
	uncommitted = set(previous) - committed  # the killed chunk's Leads and those of chunks not started
	result["after_kill"].update(
		{
			"leads_of_committed_chunks": len(committed & set(previous)),
			"leads_changed_by_the_committed_chunks": sum(
				after_kill[name] != previous[name] for name in committed if name in previous
			),
			"leads_of_the_killed_and_unstarted_chunks": len(uncommitted),
			"leads_of_the_killed_and_unstarted_chunks_not_as_before": sum(
				after_kill[name] != previous[name] for name in uncommitted
			),
			"checksum_of_uncommitted_chunks_leads_as_before": checksum(
				{name: after_kill[name] for name in uncommitted}
			)
			== checksum({name: previous[name] for name in uncommitted}),
			"lead_score_log_rows_added": frappe.db.count("Lead Score Log") - logs_before,
			"rescore_running_right_after_kill": jobs.rescore_running(),
		}
	)
	expired = time.perf_counter()
	# rescore_running runs RQ's cleanup: the killed chunk is failed once its heartbeat has expired
	failed = wait_for(
		lambda: jobs.rescore_running() is not None and status(chunk_ids[1]) == JobStatus.FAILED, 150, 1
	)
	result["run_state"] = {
		"killed_chunk_failed_after_seconds": round(time.perf_counter() - expired, 1) if failed else None,
		"killed_chunk_status": status(chunk_ids[1]),
		"chunks_still_queued_for_a_worker": sum(status(j) == JobStatus.QUEUED for j in chunk_ids),
	}

	worker = start_worker(queue)
	try:
		# a worker again: the run's queued chunks finish, and its last live chunk queues the manual
		# "rescore all" that was deferred while the run was going (it runs as of now)
		resumed = time.perf_counter()
		rescore_id = f"crm_extension_lead_rescore::{frappe.local.site}"
		deferred = wait_for(lambda: status(rescore_id) == JobStatus.FINISHED and "finished", 120, 0.2)
		done = (JobStatus.FINISHED, JobStatus.FAILED, None)  # the killed chunk stays failed
		wait_for(lambda: all(status(j) in done for j in chunk_ids), 300, 0.2)
		result["resumed"] = {
			"deferred_manual_rescore_all": deferred or "not queued",
			"seconds": round(time.perf_counter() - resumed, 1),
		}
		# the next full run, as of the killed run's time, completes
		next_started = time.perf_counter()
		ids = jobs.rescore_all(as_of=later)
		next_ids = [jobs.chunk_job_id(n) for n in range(1, len(ids) + 1)]
		done = wait_for(lambda: all(status(j) == JobStatus.FINISHED for j in next_ids), 300, 0.2)
		result["next_run"] = {
			"chunk_jobs_queued": len(ids),
			"all_chunks_finished": bool(done),
			"seconds": round(time.perf_counter() - next_started, 1),
		}
		final, final_values = seeded_scores(), seeded_values()
	finally:
		stop(worker)
	# a Lead of a committed chunk holds what the completed run (as of the same time) computed for it; any
	# other Lead holds all its columns as before the killed run
	whole = sum(
		after_kill_values[name] == final_values[name]
		if name in committed
		else after_kill[name] == previous[name]
		for name in previous
	)
	result["check"] = {
		"leads": len(previous),
		"rows_whole_after_kill": whole,
		"rows_as_before_or_as_their_committed_chunk_computed_them": f"{whole} of {len(previous)}",
		"committed_chunks_scores_equal_to_completed_run": sum(
			after_kill_values[name] == final_values[name] for name in committed if name in previous
		),
		"leads_rescored_by_next_run": sum(final[name] != previous[name] for name in previous),
		"rescore_running_at_end": jobs.rescore_running(),
		"database_at_end": database_state(),
		**rq_state(queue, chunk_ids),
	}
	return result


def kill_inside_a_write(worker: subprocess.Popen, chunk_ids: list[str]) -> tuple:
	"""SIGKILL the worker while a chunk's transaction holds rows it modified and has not committed: from
	chunk 2 on, each chunk in turn is watched while it runs (InnoDB's view of open transactions is refreshed
	every 0.1 s, a chunk takes about a second); a chunk that commits before it was caught is left and the next
	one watched. Returns (the killed chunk's position, rows it had modified, the watch)."""
	watch = Watch()
	for position, job_id in enumerate(chunk_ids[1:], start=2):
		wait_for(lambda job_id=job_id: status(job_id) != JobStatus.QUEUED, timeout=300, step=0.005)
		rows = wait_for(
			lambda job_id=job_id: watch.rows() or status(job_id) != JobStatus.STARTED, 300, TRX_POLL_SECONDS
		)
		if watch.last:
			kill(worker)  # at once: the checks after the kill tell whether the chunk had committed
			return position, rows, watch
	kill(worker)
	return None, None, watch


def rq_state(queue: Queue, job_ids: list[str]) -> dict:
	"""What RQ still holds that would block a new run: started entries, job ids still queued or started."""
	return {
		"rq_started_registry_entries": queue.started_job_registry.count,
		"job_ids_still_queued_or_started": sum(
			status(job_id) in (JobStatus.QUEUED, JobStatus.STARTED) for job_id in job_ids
		),
	}


# --- a customer value recompute ----------------------------------------------------------------------------


def customer_values() -> dict[str, str]:
	return rows_by_name("tabCustomer", VALUE_COLUMNS, "1=1")


def snapshots() -> dict[str, str]:
	columns = ("customer", "as_of", "recompute_id", "value_tier", "predicted_clv", "rfm_segment")
	return rows_by_name("tabCustomer Value Snapshot", columns, "1=1")


def value_recompute_killed(queue: Queue) -> dict:
	value_bench.cleanup()
	started = time.perf_counter()
	seeded = value_bench.seed(CUSTOMERS, LINES)
	first_started = time.perf_counter()
	first = value_recompute.recompute()  # the previous tiers and today's snapshots
	frappe.db.commit()
	first_seconds = time.perf_counter() - first_started
	previous, previous_snapshots = customer_values(), snapshots()
	result = {
		"seeded": seeded,
		"customers_scored": first["customers"],
		"seed_and_first_recompute_seconds": round(time.perf_counter() - started, 1),
		"previous_tiers": first["tiers"],
		"previous_customer_values_checksum": checksum(previous),
		"previous_snapshots": len(previous_snapshots),
	}
	worker = start_worker(queue)
	run_started = time.perf_counter()
	job_id = value_recompute.queue_recompute()  # the app's own path: the desk button, the API
	frappe.db.commit()  # queued after commit
	# kill once the job's transaction holds half the customers' staged rows (or more), uncommitted
	watch = Watch()
	wait_for(lambda: status(job_id) != JobStatus.QUEUED, timeout=120, step=0.005)
	killed_rows = wait_for(
		lambda: (watch.rows() >= CUSTOMERS // 2 and watch.last) or status(job_id) != JobStatus.STARTED,
		timeout=300,
		step=TRX_POLL_SECONDS,
	)
	kill(worker)
	killed_at = datetime.now(timezone.utc).replace(tzinfo=None)
	result["killed"] = {
		"seconds_after_enqueue": round(time.perf_counter() - run_started, 2),
		"rows_modified_by_the_killed_recompute_uncommitted": watch.last,
		"caught_inside_its_transaction": killed_rows is not True,
		"job_status_at_kill": status(job_id),
		"first_recompute_seconds": round(first_seconds, 2),
		"polls_of_innodb_trx": watch.polls,
	}
	rollback_started = time.perf_counter()
	wait_for(lambda: not database_state()["open_transactions"], timeout=120, step=TRX_POLL_SECONDS)
	lock = value_recompute.lock_name()
	result["after_kill"] = {
		"seconds_until_no_open_transaction": round(time.perf_counter() - rollback_started, 2),
		**database_state(),
		"recompute_lock_free": frappe.db.sql("select is_free_lock(%s)", lock)[0][0] == 1,
		"customer_values_checksum_as_before": checksum(customer_values())
		== result["previous_customer_values_checksum"],
		"snapshots_as_before": snapshots() == previous_snapshots,
	}
	worker = start_worker(queue)
	try:
		result["next_run"] = _next_recompute(queue, job_id, killed_at)
	finally:
		stop(worker)
	return result


def _next_recompute(queue: Queue, job_id: str, killed_at: datetime) -> dict:
	"""``queue_recompute`` asked again every second, as a user pressing the button would, until a new job
	is queued: the killed one keeps its id "started" until its heartbeat expires (at most 90 s)."""
	asked = time.perf_counter()
	attempts = 0

	def requeued():
		nonlocal attempts
		attempts += 1
		value_recompute.queue_recompute()
		frappe.db.commit()
		job = get_job(job_id)
		return bool(job and job.enqueued_at and job.enqueued_at.replace(tzinfo=None) > killed_at)

	queued = wait_for(requeued, timeout=150, step=1)
	queued_after = round(time.perf_counter() - asked, 1)
	done = wait_for(
		lambda: (now := status(job_id)) in (JobStatus.FINISHED, JobStatus.FAILED) and now, 300, 0.2
	)
	lock = value_recompute.lock_name()
	return {
		"queue_recompute_calls_until_a_new_job_was_queued": attempts,
		"new_job_queued": bool(queued),
		"new_job_queued_after_seconds": queued_after,
		"job_status": done,
		"seconds": round(time.perf_counter() - asked, 1),
		"snapshots_today": frappe.db.count("Customer Value Snapshot", {"as_of": frappe.utils.nowdate()}),
		"customers": frappe.db.count("Customer"),
		"recompute_lock_free": frappe.db.sql("select is_free_lock(%s)", lock)[0][0] == 1,
		"database_at_end": database_state(),
		**rq_state(queue, [job_id]),
	}
