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
from datetime import timedelta
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
CUSTOMERS, LINES = 1500, 12_000
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
	return report(result)


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
		[sys.executable, "-c", WORKER, frappe.local.site, queue.name, str(INNER_CHUNK)],
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
	lock_waits = observe("select count(*) from information_schema.innodb_lock_waits")[0][0]
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
		"innodb_lock_waits_on_server": lock_waits,
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


def seeded_scores() -> dict[str, str]:
	return rows_by_name("tabLead", SCORE_COLUMNS, "name like %s", (lead_bench.PREFIX + "%",))


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
	watch = Watch()
	wait_for(lambda: status(chunk_ids[1]) == JobStatus.STARTED, timeout=120, step=0.01)
	first = get_job(chunk_ids[0])
	# once chunk 2 has written some of its Leads, uncommitted
	killed_rows = wait_for(
		watch.rows, timeout=(first.ended_at - first.started_at).total_seconds(), step=0.005
	)
	kill(worker)
	result["killed"] = {
		"seconds_after_the_run_started": round(time.perf_counter() - run_started, 2),
		"chunk_statuses_at_kill": [status(job_id) for job_id in chunk_ids],
		"rows_modified_by_the_killed_chunk_uncommitted": killed_rows,
		"chunk_1_seconds": round((first.ended_at - first.started_at).total_seconds(), 2),
	}
	rollback_started = time.perf_counter()
	wait_for(lambda: not database_state()["open_transactions"], timeout=120, step=0.1)
	result["after_kill"] = {
		"seconds_until_no_open_transaction": round(time.perf_counter() - rollback_started, 2),
		**database_state(),
	}
	after_kill = seeded_scores()
	second_and_third = set(previous) - set(get_job(chunk_ids[0]).kwargs["kwargs"]["leads"])
	result["after_kill"].update(
		{
			"leads_changed_by_the_committed_first_chunk": sum(
				after_kill[name] != previous[name] for name in after_kill if name not in second_and_third
			),
			"leads_of_the_killed_and_unstarted_chunks_not_as_before": sum(
				after_kill[name] != previous[name] for name in second_and_third if name in previous
			),
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
		final = seeded_scores()
	finally:
		stop(worker)
	whole = sum(after_kill[name] in (previous[name], final[name]) for name in previous)
	result["check"] = {
		"leads": len(previous),
		"rows_whole_after_kill": whole,
		"rows_as_before_or_as_the_completed_run": f"{whole} of {len(previous)}",
		"first_chunk_rows_equal_to_completed_run": sum(
			after_kill[name] == final[name] for name in previous if name not in second_and_third
		),
		"leads_rescored_by_next_run": sum(final[name] != previous[name] for name in previous),
		"rescore_running_at_end": jobs.rescore_running(),
		"database_at_end": database_state(),
	}
	return result


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
	job_id = "crm_faults_value_recompute"
	worker = start_worker(queue)
	run_started = time.perf_counter()
	frappe.enqueue(
		"crm_extension.customer_value.recompute.recompute",
		queue="long",
		job_id=job_id,
		chunk_size=VALUE_CHUNK,
	)
	# past staging (a delete and an insert per customer) into scoring and tiering
	# about half-way: as long after the job started as half the first recompute took
	watch = Watch()
	wait_for(lambda: status(job_id) == JobStatus.STARTED, timeout=120, step=0.01)
	time.sleep(1.0 + 0.5 * first_seconds)
	killed_rows = watch.rows()
	kill(worker)
	result["killed"] = {
		"seconds_after_enqueue": round(time.perf_counter() - run_started, 2),
		"rows_modified_by_the_killed_recompute_uncommitted": killed_rows,
		"job_status_at_kill": status(job_id),
		"first_recompute_seconds": round(first_seconds, 2),
	}
	rollback_started = time.perf_counter()
	wait_for(lambda: not database_state()["open_transactions"], timeout=120, step=0.1)
	lock = value_recompute.lock_name()
	result["after_kill"] = {
		"seconds_until_no_open_transaction": round(time.perf_counter() - rollback_started, 2),
		**database_state(),
		"recompute_lock_free": frappe.db.sql("select is_free_lock(%s)", lock)[0][0] == 1,
		"customer_values_as_before": checksum(customer_values())
		== result["previous_customer_values_checksum"],
		"snapshots_as_before": snapshots() == previous_snapshots,
	}
	worker = start_worker(queue)
	try:
		next_started = time.perf_counter()
		result["next_run"] = {"queued_right_after_kill": bool(enqueue_recompute(job_id))}
		if not result["next_run"]["queued_right_after_kill"]:  # the killed job still counts as "started"
			failed = wait_for(
				lambda: (
					queue.started_job_registry.cleanup() is not None and status(job_id) == JobStatus.FAILED
				),
				timeout=150,
				step=1,
			)
			result["next_run"]["killed_job_marked_failed_after_seconds"] = (
				round(time.perf_counter() - next_started, 1) if failed else None
			)
			result["next_run"]["queued_after_that"] = bool(enqueue_recompute(job_id))
		done = wait_for(
			lambda: (now := status(job_id)) in (JobStatus.FINISHED, JobStatus.FAILED) and now, 300, 0.2
		)
		result["next_run"].update(
			{
				"job_status": done,
				"seconds": round(time.perf_counter() - next_started, 1),
				"snapshots_today": frappe.db.count(
					"Customer Value Snapshot", {"as_of": frappe.utils.nowdate()}
				),
				"customers": frappe.db.count("Customer"),
				"recompute_lock_free": frappe.db.sql("select is_free_lock(%s)", lock)[0][0] == 1,
				"database_at_end": database_state(),
			}
		)
	finally:
		stop(worker)
	return result


def enqueue_recompute(job_id: str):
	"""As ``recompute.queue_recompute`` does (deduplicated on its job id), with a smaller chunk."""
	return frappe.enqueue(
		"crm_extension.customer_value.recompute.recompute",
		queue="long",
		job_id=job_id,
		deduplicate=True,
		chunk_size=VALUE_CHUNK,
	)
