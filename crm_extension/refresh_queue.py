"""Refresh work for parties (preferred channel, lead score), queued at most once per party per transaction.

``frappe.enqueue(..., deduplicate=True, enqueue_after_commit=True)`` looks for a duplicate when it is called
but pushes the job at commit, so every write in one transaction pushed its own copy. Here a write only adds
its parties to a set kept for the transaction; one after-commit callback then either

- pushes one job per party on the short queue, deduplicated when it is pushed (a job still waiting for the
  same party is not copied), or
- under bulk load (a Data Import, or more than ``BULK_PARTIES`` parties in one transaction) adds the parties
  to a dirty set in Redis and makes sure one drain job is queued on the long queue. That job refreshes
  ``DRAIN_CHUNK`` parties set-based and queues the next drain while any are left, so 50,000 imported
  activities cost a few chunk jobs, not 50,000. A drain that fails loses its chunk until the nightly jobs
  (which refresh every party whose feed changed) catch it up.

A rollback forgets the transaction's parties.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import frappe
from redis import Redis
from redis.exceptions import RedisError

BULK_PARTIES = 20
DRAIN_CHUNK = 1000
DRAIN_FLAG_SECONDS = 6 * 3600
_SEPARATOR = "\x1f"
UNAVAILABLE_REPORT_SECONDS = 900
_unavailable_reported_at: float | None = None


@dataclass(frozen=True)
class Work:
	party_method: str
	job_id: Callable[[tuple[str, str]], str]
	party_kwargs: Callable[[tuple[str, str]], dict]
	chunk_method: str


WORK = {
	"preferred_channel": Work(
		party_method="crm_extension.activity_log.refresh.refresh_preferred_channel",
		job_id=lambda party: f"crm_preferred_channel::{party[0]}::{party[1]}",
		party_kwargs=lambda party: {"doctype": party[0], "name": party[1]},
		chunk_method="crm_extension.activity_log.refresh.refresh_chunk",
	),
	"sequence_exit": Work(
		party_method="crm_extension.sequences.exits.check_document",
		job_id=lambda party: f"crm_sequence_exit::{frappe.local.site}::{party[0]}::{party[1]}",
		party_kwargs=lambda party: {"doctype": party[0], "name": party[1]},
		chunk_method="crm_extension.sequences.exits.check_documents",
	),
	"lead_score": Work(
		party_method="crm_extension.lead_scoring.jobs.score_one",
		job_id=lambda party: f"crm_extension_lead_score::{frappe.local.site}::{party[1]}",
		party_kwargs=lambda party: {"lead": party[1]},
		chunk_method="crm_extension.lead_scoring.jobs.score_parties",
	),
}


def queue_refresh(kind: str, parties) -> None:
	"""Refresh ``kind`` for these (doctype, name) parties once this transaction commits."""
	parties = {(doctype, name) for doctype, name in parties if doctype and name}
	if not parties:
		return
	pending = getattr(frappe.local, "crm_refresh_pending", None)
	if pending is None:
		pending = frappe.local.crm_refresh_pending = {}
		frappe.db.after_commit.add(_flush)
		frappe.db.after_rollback.add(_forget)
	pending.setdefault(kind, set()).update(parties)


def _forget():
	frappe.local.crm_refresh_pending = None


def _flush():
	pending = getattr(frappe.local, "crm_refresh_pending", None) or {}
	frappe.local.crm_refresh_pending = None
	try:
		for kind, parties in pending.items():
			if frappe.flags.in_import or len(parties) > BULK_PARTIES:
				mark_dirty(kind, parties)
			else:
				for party in sorted(parties):
					_queue_party(kind, party)
	except RedisError as error:
		# The save is committed and stays so; the nightly jobs refresh what was not queued.
		_report_unavailable(error)


def _report_unavailable(error: Exception):
	"""Once per process per ``UNAVAILABLE_REPORT_SECONDS``, not once per save: Redis being down fails every
	save's queueing until it is back."""
	global _unavailable_reported_at
	now = time.monotonic()
	if _unavailable_reported_at is not None and now - _unavailable_reported_at < UNAVAILABLE_REPORT_SECONDS:
		return
	_unavailable_reported_at = now
	frappe.logger("crm_extension").error(
		f"Refresh work could not be queued (Redis: {error}); the nightly jobs will catch it up. "
		f"Further failures are not logged for {UNAVAILABLE_REPORT_SECONDS} s."
	)


def reset_unavailable_report():
	global _unavailable_reported_at
	_unavailable_reported_at = None


def _queue_party(kind: str, party: tuple[str, str]):
	work = WORK[kind]
	frappe.enqueue(
		work.party_method,
		queue="short",
		job_id=work.job_id(party),
		deduplicate=True,
		**work.party_kwargs(party),
	)


def mark_dirty(kind: str, parties) -> None:
	"""Leave the parties to the drain jobs (long queue), queuing one when none is waiting."""
	members = [f"{doctype}{_SEPARATOR}{name}" for doctype, name in parties]
	if not members:
		return
	frappe.cache.sadd(dirty_key(kind), *members)
	_queue_drain(kind)


def _queue_drain(kind: str):
	flag = frappe.cache.make_key(drain_flag(kind))
	if frappe.cache.set(flag, 1, nx=True, ex=DRAIN_FLAG_SECONDS):
		frappe.enqueue("crm_extension.refresh_queue.drain", queue="long", kind=kind)


def drain(kind: str):
	"""Refresh up to ``DRAIN_CHUNK`` dirty parties of ``kind``; queue the next drain while any are left."""
	key = frappe.cache.make_key(dirty_key(kind))
	# from here on a newly dirty party queues a drain of its own
	frappe.cache.delete(frappe.cache.make_key(drain_flag(kind)))
	members = Redis.spop(frappe.cache, key, DRAIN_CHUNK) or []  # the wrapper's spop pops one
	parties = sorted(tuple(_text(member).split(_SEPARATOR, 1)) for member in members)
	if parties:
		frappe.get_attr(WORK[kind].chunk_method)(parties=parties)
	if frappe.cache.scard(key):
		_queue_drain(kind)


def dirty_key(kind: str) -> str:
	return f"crm_extension:dirty_parties:{kind}"


def drain_flag(kind: str) -> str:
	return f"crm_extension:drain_queued:{kind}"


def _text(member) -> str:
	return member.decode() if isinstance(member, bytes) else member


def pending(kind: str) -> set[tuple[str, str]]:
	"""The parties this transaction will have ``kind`` refreshed for when it commits."""
	return set((getattr(frappe.local, "crm_refresh_pending", None) or {}).get(kind, ()))
