"""When Leads are scored: queued after a Lead or its engagement changes, nightly for all (decay), and the
model weekly. Saving a Lead or logging an activity only queues work; scoring runs in a worker.

Runs never overlap on the same Leads: the chunk jobs of a full rescore carry job ids
(``crm_extension_lead_score_chunk::<site>::<n>``), and a full rescore asked for while a run still has a chunk
queued or running (the nightly run, a manual "rescore all", the rescore after a training) queues nothing;
the run's last chunk queues one more full rescore instead. Training carries one job id
(``crm_extension_lead_training::<site>``), the weekly one and the desk button's alike, and rescores after.
"""

import json

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime
from frappe.utils.background_jobs import get_queue, get_workers, is_job_enqueued

from crm_extension.dead_jobs import fail_jobs_of_dead_workers
from crm_extension.lead_scoring.context import SETTINGS, load_context, setting
from crm_extension.lead_scoring.engine.batches import batch_sizes
from crm_extension.lead_scoring.scoring import score_leads
from crm_extension.lead_scoring.touches import lead_span
from crm_extension.refresh_queue import queue_refresh

CHUNK_SIZE = 1000
TRAINING_JOB = "crm_extension_lead_training"
TRAINING_TIMEOUT = 3600
# the latest full rescore: its chunk job ids, chunks not finished, whether another run was asked for meanwhile
RUN_CHUNKS = "crm_extension:lead_rescore:chunks"
RUN_REMAINING = "crm_extension:lead_rescore:remaining"
RESCORE_REQUESTED = "crm_extension:lead_rescore:requested"
RUN_STATE_SECONDS = 2 * 24 * 3600
MAX_JOB_SIZE = 25_000  # about 4 s of a worker
DECIDED_STATUSES = ("Converted", "Do Not Contact")


def queue_lead_score(leads: list[str]):
	"""Rescore these Leads once this transaction commits, each at most once (``refresh_queue``)."""
	queue_refresh("lead_score", (("Lead", lead) for lead in leads))


def queue_for_reference(doctype: str | None, name: str | None):
	"""Queue the Leads an activity, email or call about this document belongs to."""
	if doctype and name and (leads := leads_of(doctype, name)):
		queue_lead_score(leads)


def leads_of(doctype: str, name: str) -> list[str]:
	if doctype == "Lead":
		return [name]
	if doctype == "Opportunity":
		return frappe.get_all(
			"Opportunity", {"name": name, "opportunity_from": "Lead"}, pluck="party_name", order_by=None
		)
	if doctype == "Contact":
		return frappe.get_all(
			"Dynamic Link",
			{"parenttype": "Contact", "parent": name, "link_doctype": "Lead"},
			pluck="link_name",
			order_by=None,
		)
	return []


def score_one(lead: str):
	score_leads([lead])


def score_parties(parties: list[tuple[str, str]]):
	"""A drain chunk of dirty Leads (``refresh_queue``), scored ``CHUNK_SIZE`` at a time."""
	leads = sorted({name for doctype, name in parties if doctype == "Lead"})
	leads = frappe.get_all("Lead", {"name": ("in", leads)}, pluck="name", order_by="name") if leads else []
	if leads:
		score_chunk(leads)


def queue_full_rescore(after_commit: bool = True) -> str:
	job_id = f"crm_extension_lead_rescore::{frappe.local.site}"
	frappe.enqueue(
		"crm_extension.lead_scoring.jobs.rescore_all",
		queue="long",
		job_id=job_id,
		deduplicate=True,
		enqueue_after_commit=after_commit,
	)
	return job_id


def rescore_all(as_of: str | None = None) -> list[str]:
	"""The open Leads as jobs on the long queue, as many as keep every worker of every machine equally busy
	(``engine.batches``), of at most ``MAX_JOB_SIZE`` Leads. Each job is enqueued as soon as the walk over the
	Leads has read its names, so the first jobs run while the rest are read. ``as_of``: score as of that time
	instead of when each job runs. Returns the jobs' ids; none while a run is still going (that run's last
	chunk queues a full rescore again)."""
	if rescore_running():
		_redis().set(_key(RESCORE_REQUESTED), 1, ex=RUN_STATE_SECONDS)
		return []
	sizes = batch_sizes(open_lead_count(), len(get_workers(get_queue("long"))), MAX_JOB_SIZE)
	_redis().set(_key(RUN_CHUNKS), json.dumps([chunk_job_id(n) for n in range(1, len(sizes) + 1)]))
	_redis().set(_key(RUN_REMAINING), len(sizes), ex=RUN_STATE_SECONDS)
	ids, last = [], ""
	for position, size in enumerate(sizes, start=1):
		# the last job takes every Lead left, opened since the count or not
		leads = open_leads_after(last, None if position == len(sizes) else size)
		if not leads:
			_redis().decrby(_key(RUN_REMAINING), len(sizes) - position + 1)
			break
		job = frappe.enqueue(
			"crm_extension.lead_scoring.jobs.score_chunk",
			queue="long",
			job_id=chunk_job_id(position),
			deduplicate=True,
			leads=leads,
			position=position,
			chunks=len(sizes),
			as_of=as_of,
		)
		ids.append(job.id if job else chunk_job_id(position))
		last = leads[-1]
	return ids


def chunk_job_id(position: int) -> str:
	return f"crm_extension_lead_score_chunk::{frappe.local.site}::{position}"


def rescore_running(but: str | None = None) -> bool:
	"""Whether a chunk of the latest full rescore is still queued or running. A chunk whose worker was killed
	is failed first once its heartbeat has expired (``dead_jobs``), so that a "rescore all" asked for after
	that runs instead of waiting for a run's end that never comes (and the dead chunk's job id is free for the
	next run's chunk). ``but``: a chunk left out (the one asking)."""
	fail_jobs_of_dead_workers("long")
	chunk_ids = json.loads(_redis().get(_key(RUN_CHUNKS)) or "[]")
	return any(is_job_enqueued(job_id) for job_id in chunk_ids if job_id != but)


def score_chunk(leads: list[str], position: int = 1, chunks: int = 1, as_of: str | None = None):
	"""A job's Leads (open Leads in name order, as ``open_lead_chunks`` gives them), scored ``CHUNK_SIZE`` at
	a time, each chunk's rows read as ranges when few other Leads lie between its names."""
	context = load_context()
	moment = get_datetime(as_of) if as_of else now_datetime()
	for start in range(0, len(leads), CHUNK_SIZE):
		chunk = leads[start : start + CHUNK_SIZE]
		score_leads(chunk, moment, context, lead_span(chunk))
	frappe.publish_progress(
		position * 100 / chunks,
		title=_("Lead Scoring"),
		description=_("Scored {0} of {1} chunks").format(position, chunks),
	)
	_chunk_done(chunk_job_id(position))


def _chunk_done(this_chunk: str):
	"""The run's last chunk queues the full rescore asked for while the run was going. A chunk whose worker
	was killed never ends: the last chunk still queued or running is the last one."""
	if _redis().decr(_key(RUN_REMAINING)) > 0 and rescore_running(but=this_chunk):
		return
	if _redis().delete(_key(RESCORE_REQUESTED)):
		queue_full_rescore()


def _redis():
	return frappe.cache


def _key(name: str) -> str:
	return frappe.cache.make_key(name)


def open_lead_chunks(chunk_size: int = CHUNK_SIZE):
	"""Names of the Leads still open, ``chunk_size`` at a time in name order (a keyset walk on the primary
	key, so a chunk costs the same at the end of the table as at its start)."""
	last = ""
	while chunk := open_leads_after(last, chunk_size):
		yield chunk
		last = chunk[-1]


def open_leads_after(last: str, limit: int | None) -> list[str]:
	"""Names of the open Leads after ``last`` in name order: ``limit`` of them, or all."""
	limit_clause = f"limit {int(limit)}" if limit is not None else ""
	return frappe.db.sql_list(
		f"""select name from `tabLead` where name > %(last)s and coalesce(status, '') not in %(decided)s
		order by name {limit_clause}""",
		{"last": last, "decided": DECIDED_STATUSES},
	)


def open_lead_count() -> int:
	return frappe.db.sql(
		"select count(*) from `tabLead` where coalesce(status, '') not in %(decided)s",
		{"decided": DECIDED_STATUSES},
	)[0][0]


def nightly_rescore():
	if setting(frappe.get_cached_doc(SETTINGS), "nightly_rescore"):
		rescore_all()


def weekly_training():
	if setting(frappe.get_cached_doc(SETTINGS), "weekly_training"):
		queue_training()


def queue_training() -> str:
	"""Queue training on the long queue under the site's one training job id (a second request while it is
	queued or running is a no-op); returns that id."""
	job_id = f"{TRAINING_JOB}::{frappe.local.site}"
	frappe.enqueue(
		"crm_extension.lead_scoring.jobs.train_and_rescore",
		queue="long",
		timeout=TRAINING_TIMEOUT,
		job_id=job_id,
		deduplicate=True,
	)
	return job_id


def train_and_rescore() -> dict:
	"""The training job: train (progress shows in the desk), then rescore every open Lead with the model."""
	from crm_extension.lead_scoring.training import train

	summary = train(progress=True)
	queue_full_rescore()
	return summary
