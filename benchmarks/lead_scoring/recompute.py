"""Full lead recompute of 100,000 Leads with 1,000,000 feed items, against one set-based SQL pass over the
same rows, in the same run.

Run on a bench site that has the app installed:
    CRM_TEST_SITE=leads.localhost bash benchmarks/run.sh leads
Sizes for a quicker trial: CRM_BENCH_LEADS=5000 CRM_BENCH_LEAD_ITEMS=50000; CRM_BENCH_LEAD_MODEL=0 skips
the run with a trained model; CRM_BENCH_LEAD_MEMORY=0 skips the (traced, slower) memory run;
CRM_BENCH_LEAD_WORKERS=0 skips the run on workers.

``run.sh`` seeds with ``seed_only`` in a process of its own, then measures with ``run``. Seeds (fixed random
seed): open Leads with the fields of ``generator.lead_fields`` (source, industry, size,
territory, country, type, ...) created over the last two years, and feed items about them: 90% CRM
Activities (WhatsApp, Email, Phone, SMS, Meeting; inbound, outbound and internal; replied, no response,
meeting held, not interested, ...) and 10% emails (Communication with the Lead as reference). Items per
Lead are heavy-tailed (a gamma-mixed multinomial: many Leads with a few items, some with dozens), each
dated between the Lead's creation and now. Rows go in with multi-row INSERTs (``frappe.db.bulk_insert``),
never a document per record; every seeded name starts with ``PREFIX`` and ``cleanup`` deletes exactly
those rows. Eleven Lead Scoring Rules (fit, engagement with half-lives and caps, inactivity) are added for
the run, validated by their controller, and removed after.

Measured, after a commit of the seed, each time once InnoDB has purged what came before (``quiesce``):

- **SQL pass** (after a warm-up; the fastest of a forced table scan, the planner's own plan and a read of
  CRM Activity's covering index, median of 3 runs each): per-Lead count and latest time of its CRM
  Activities and of its emails (``GROUP BY reference_name``), and the open Leads' rows with the columns
  scoring reads; measured again, in the same way, in the state each later run finds (scored Leads have
  longer rows), and each ratio is taken against the pass measured just before its run;
  also, not the target's baseline, the time to fetch every one of those feed rows into Python unscored;
- **full recompute, first**: ``jobs.open_lead_chunks``, ``touches.lead_span`` and ``scoring.score_leads`` per
  chunk, inline in this process (as ``jobs.score_chunk`` does on a worker), on Leads never scored (every
  Lead keeps its first trend point, no log row is written), with the time of each phase (the context, the
  span check, reading the Leads and their feed, writing the Leads and the trend's log; the rest is the
  engine); then committed;
- **full recompute, next day**: the same with ``as_of`` a day later, as the nightly job finds it (decay
  moved some scores, few trend points); rolled back;
- **full recompute with a model, next day**: the same with a conversion model (trained by the engine on
  generated leads) stored in Lead Scoring Settings for the run, so every Lead also gets a probability
  (from the model's stored weights, its count features added up by the database), and grades follow the
  probability; rolled back;
- **on workers**: the full recompute as a site runs it, one Frappe worker per core on the long queue and
  ``jobs.rescore_all`` enqueuing the open Leads as jobs that give each worker the same share (of at most
  ``jobs.MAX_JOB_SIZE`` Leads), timed from the enqueue to the last job's end: on unscored Leads, then the
  next day's run (each job commits; the seeded Leads' scores are reset before and after); then both again
  with the model stored (committed for the workers, the settings put back after);
- **memory**: the tracemalloc peak of scoring the first chunks, and the process's peak RSS.

When the site has open Leads of its own, nothing is committed: the next-day runs are skipped and the model
run is a first one. A worker commits each chunk; here the runs are committed or rolled back as a whole.
"""

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

import frappe
import numpy as np
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_queue
from rq import Worker
from rq.job import Job, JobStatus

from benchmarks.common import report
from benchmarks.lead_scoring.generator import SITE_FEATURES, generate_leads, lead_fields
from crm_extension.lead_scoring import grade_a, jobs, scoring, touches
from crm_extension.lead_scoring.context import SETTINGS, load_context, model_values
from crm_extension.lead_scoring.engine.model import train_model, training_example

LEADS = 100_000
ITEMS = 1_000_000
COMMUNICATION_SHARE = 0.10
SEED = 4004
PREFIX = "LSBENCH-"
BATCH = 50_000
MEMORY_CHUNKS = 5
MODEL_TRAINING_LEADS = 6000
WORKERS = os.cpu_count() or 2
JOBS_TIMEOUT = 600
QUIET_TIMEOUT, QUIET_HISTORY = 180, 1000
BYTECODE_CACHE = os.path.join(tempfile.gettempdir(), "crm_extension_benchmark_bytecode")
OPEN_STATUSES = ("Lead", "Open", "Replied", "Interested", "Opportunity", "Quotation")
CHANNELS = {
	"WhatsApp": "Messaging",
	"Email": "Email",
	"Phone": "Voice",
	"SMS": "Messaging",
	"Meeting": "Meeting",
}
CHANNEL_SHARES = (0.35, 0.30, 0.20, 0.08, 0.07)
DIRECTIONS = ("Inbound", "Outbound", "Internal")
DIRECTION_SHARES = (0.40, 0.55, 0.05)
OUTCOMES = (
	"",
	"Replied",
	"No Response",
	"Completed",
	"Interested",
	"Meeting Held",
	"Not Interested",
	"Bounced",
)
OUTCOME_SHARES = (0.30, 0.25, 0.20, 0.12, 0.05, 0.04, 0.02, 0.02)
LEAD_AGE_DAYS = 730

RULES = (
	{"label": "Referral or existing customer", "rule_type": "Fit", "points": 15, "field": "source",
	 "operator": "in", "value": "Referral\nExisting Customer"},
	{"label": "Company of 200+", "rule_type": "Fit", "points": 10, "field": "no_of_employees",
	 "operator": "in", "value": "201-500\n501-1000\n1000+"},
	{"label": "Has email", "rule_type": "Fit", "points": 5, "field": "email_id", "operator": "is set"},
	{"label": "Revenue over 1M", "rule_type": "Fit", "points": 5, "field": "annual_revenue",
	 "operator": "greater than", "value": "1000000"},
	{"label": "Education", "rule_type": "Fit", "points": -5, "field": "industry", "operator": "equals",
	 "value": "Education"},
	{"label": "Replied", "rule_type": "Engagement", "points": 6, "direction": "Inbound", "outcome": "Replied",
	 "half_life_days": 14, "max_points": 40},
	{"label": "WhatsApp from the lead", "rule_type": "Engagement", "points": 4, "channel": "WhatsApp",
	 "direction": "Inbound", "half_life_days": 7, "max_points": 20},
	{"label": "Meeting held", "rule_type": "Engagement", "points": 15, "outcome": "Meeting Held",
	 "half_life_days": 30, "max_points": 30},
	{"label": "Not interested", "rule_type": "Engagement", "points": -20, "outcome": "Not Interested",
	 "half_life_days": 60, "max_points": 40},
	{"label": "No activity for 30 days", "rule_type": "Inactivity", "points": -10, "inactive_days": 30},
	{"label": "No reply for 90 days", "rule_type": "Inactivity", "points": -10, "inactive_days": 90,
	 "direction": "Inbound"},
)  # fmt: skip

# {hint}: "" lets the planner choose (for CRM Activity it picks the covering engagement index), "use
# index ()" forces a sequential table scan, "force index (engagement_index)" reads CRM Activity's covering
# index alone, as the recompute's tallies do (Communication has no index that covers its pass).
ACTIVITY_PASS = """select reference_name, count(*), max(activity_at)
	from `tabCRM Activity` {hint} where reference_doctype = 'Lead' group by reference_name"""
COMMUNICATION_PASS = """select reference_name, count(*), max(communication_date)
	from `tabCommunication` {hint} where reference_doctype = 'Lead' and communication_type = 'Communication'
	group by reference_name"""
# plan: ((CRM Activity hint, Communication hint), timed runs after a warm-up)
PLANS = {
	"table_scan": (("use index ()", "use index ()"), 3),
	"planner": (("", ""), 3),
	"covering_index": (("force index (engagement_index)", ""), 3),
}

# Every table the seed writes to, and the column that marks a seeded row.
SEEDED = (
	("Lead Score Log", "lead"),
	("CRM Activity", "name"),
	("Communication", "name"),
	("Lead Scoring Rule", "name"),
	("Lead", "name"),
)


def _sizes() -> tuple[int, int]:
	return (
		int(os.environ.get("CRM_BENCH_LEADS") or LEADS),
		int(os.environ.get("CRM_BENCH_LEAD_ITEMS") or ITEMS),
	)


def _enabled(variable: str) -> bool:
	return os.environ.get(variable, "1") != "0"


def seed_only() -> dict:
	"""Seed and commit, for ``run`` to measure in another process (``benchmarks/run.sh`` runs both, ``run``
	with CRM_BENCH_LEAD_REUSE_SEED=1): every SQL pass measured in the process that had just seeded took
	2.8–2.9 s, against 2.0–2.5 s in any other process on the same data."""
	leads, items = _sizes()
	cleanup()
	frappe.db.commit()
	started = time.perf_counter()
	seeded = seed(leads, items)
	add_rules()
	frappe.db.commit()
	return {**seeded, "seconds": round(time.perf_counter() - started, 1)}


def run():
	leads, items = _sizes()
	reuse = os.environ.get("CRM_BENCH_LEAD_REUSE_SEED") == "1" and _seed_in_place(leads, items)
	if not reuse:
		cleanup()  # a run that was killed may have left its rows
		frappe.db.commit()
	try:
		if reuse:
			seeded = describe_seed()
		else:
			started = time.perf_counter()
			seeded = seed(leads, items)
			add_rules()
			frappe.db.commit()  # the benchmark commits its own data and removes it below
			seeded["seconds"] = round(time.perf_counter() - started, 1)
		result = measure(seeded)
	finally:
		cleanup()
		frappe.db.commit()
		frappe.clear_document_cache(SETTINGS, SETTINGS)
	return report(result)


# --- seeding ---


def seed(leads: int, items: int) -> dict:
	rng = np.random.default_rng(SEED)
	now = np.datetime64(now_datetime().replace(microsecond=0), "s")
	created = now - (rng.uniform(1, LEAD_AGE_DAYS, leads) * 86400).astype("timedelta64[s]")
	_seed_leads(rng, created)
	weights = rng.gamma(0.8, 1.0, leads)
	per_lead = rng.multinomial(items, weights / weights.sum())
	owners = np.repeat(np.arange(leads), per_lead)
	rng.shuffle(owners)
	communications = int(items * COMMUNICATION_SHARE)
	for start in range(0, items, BATCH):
		batch = owners[start : start + BATCH]
		ages = rng.uniform(0, 1, batch.size) * (now - created[batch]).astype(float)
		at = _as_text(now - ages.astype("timedelta64[s]"))
		numbers = np.arange(start, start + batch.size)
		is_email = numbers < communications
		if is_email.any():
			_seed_communications(rng, numbers[is_email], batch[is_email], at[is_email])
		if (~is_email).any():
			_seed_activities(rng, numbers[~is_email], batch[~is_email], at[~is_email])
	return {
		"leads": leads,
		"feed_items": items,
		"crm_activities": items - communications,
		"communications": communications,
		"max_items_per_lead": int(per_lead.max()),
		"median_items_per_lead": float(np.median(per_lead)),
		"leads_without_items": int((per_lead == 0).sum()),
	}


def _seed_in_place(leads: int, items: int) -> bool:
	"""CRM_BENCH_LEAD_REUSE_SEED=1: a complete seed of the same sizes (``seed_only``'s, or a killed run's) is
	measured, not re-seeded; it is removed at the end all the same."""
	like = {"name": ("like", PREFIX + "%")}
	feed = frappe.db.count("CRM Activity", like) + frappe.db.count("Communication", like)
	return (
		frappe.db.count("Lead", like) == leads
		and feed == items
		and frappe.db.count("Lead Scoring Rule", like) == len(RULES)
		and not frappe.db.count("Lead Score Log", {"lead": ("like", PREFIX + "%")})
	)


def describe_seed() -> dict:
	per_lead = [
		count
		for _lead, count in frappe.db.sql(
			"""select l.name, count(a.name) from `tabLead` l
			left join `tabCRM Activity` a on a.reference_doctype = 'Lead' and a.reference_name = l.name
			where l.name like %(prefix)s group by l.name""",
			{"prefix": PREFIX + "%"},
		)
	]
	like = {"name": ("like", PREFIX + "%")}
	return {
		"leads": len(per_lead),
		"crm_activities": frappe.db.count("CRM Activity", like),
		"communications": frappe.db.count("Communication", like),
		"max_crm_activities_per_lead": max(per_lead),
		"median_crm_activities_per_lead": float(np.median(per_lead)),
		"seeded_before_this_run": True,
	}


def lead_name(number: int) -> str:
	return f"{PREFIX}L{number:07d}"


def _seed_leads(rng, created: np.ndarray):
	fields = [
		"name", "lead_name", "title", "company_name", "source", "industry", "no_of_employees", "territory",
		"country", "type", "request_type", "market_segment", "annual_revenue", "email_id", "mobile_no",
		"website", "status", "naming_series", "creation", "modified", "owner", "modified_by",
	]  # fmt: skip
	statuses = rng.choice(OPEN_STATUSES, created.size)
	stamps = _as_text(created)
	for start in range(0, created.size, BATCH):
		rows = []
		for number in range(start, min(start + BATCH, created.size)):
			lead = lead_fields(rng, number)
			lead.update(
				name=lead_name(number),
				title=lead["lead_name"],
				status=statuses[number],
				naming_series="CRM-LEAD-.YYYY.-",
				creation=stamps[number],
				modified=stamps[number],
				owner="Administrator",
				modified_by="Administrator",
			)
			rows.append([lead.get(field) for field in fields])
		frappe.db.bulk_insert("Lead", fields, rows)


def _seed_activities(rng, numbers: np.ndarray, owners: np.ndarray, at: np.ndarray):
	channels = rng.choice(list(CHANNELS), numbers.size, p=CHANNEL_SHARES)
	directions = rng.choice(DIRECTIONS, numbers.size, p=DIRECTION_SHARES)
	outcomes = rng.choice(OUTCOMES, numbers.size, p=OUTCOME_SHARES)
	fields = [
		"name", "channel", "channel_type", "direction", "outcome", "activity_at", "source",
		"reference_doctype", "reference_name", "subject", "creation", "modified", "owner", "modified_by",
	]  # fmt: skip
	rows = [
		[
			f"{PREFIX}A{numbers[i]:08d}",
			channels[i],
			CHANNELS[channels[i]],
			directions[i],
			outcomes[i],
			at[i],
			"Import",
			"Lead",
			lead_name(owners[i]),
			"Benchmark activity",
			at[i],
			at[i],
			"Administrator",
			"Administrator",
		]
		for i in range(numbers.size)
	]
	frappe.db.bulk_insert("CRM Activity", fields, rows)


def _seed_communications(rng, numbers: np.ndarray, owners: np.ndarray, at: np.ndarray):
	sent = rng.choice(("Sent", "Received"), numbers.size, p=(0.6, 0.4))
	fields = [
		"name", "communication_type", "communication_medium", "sent_or_received", "communication_date",
		"subject", "reference_doctype", "reference_name", "status", "creation", "modified", "owner",
		"modified_by",
	]  # fmt: skip
	rows = [
		[
			f"{PREFIX}C{numbers[i]:08d}",
			"Communication",
			"Email",
			sent[i],
			at[i],
			"Benchmark email",
			"Lead",
			lead_name(owners[i]),
			"Linked",
			at[i],
			at[i],
			"Administrator",
			"Administrator",
		]
		for i in range(numbers.size)
	]
	frappe.db.bulk_insert("Communication", fields, rows)


def _as_text(stamps: np.ndarray) -> np.ndarray:
	return np.char.replace(stamps.astype("datetime64[s]").astype(str), "T", " ")


def add_rules():
	"""Validated by the rule's controller, then written without its on_update (which would queue a full
	rescore on a worker)."""
	for rule in RULES:
		doc = frappe.get_doc({"doctype": "Lead Scoring Rule", "enabled": 1, **rule})
		doc.label = PREFIX + doc.label
		doc.set_new_name()
		doc.set_user_and_timestamp()
		doc.validate()
		doc.db_insert()


def seeded_model():
	"""A conversion model trained by the engine on generated decided leads (fields like the seeded ones)."""
	examples = [
		training_example(lead.key, lead.lead, lead.feed, lead.facts, SITE_FEATURES)
		for lead in generate_leads(MODEL_TRAINING_LEADS, SEED)
	]
	return train_model(examples, now_datetime()).model


# --- measuring ---


def measure(seeded: dict) -> dict:
	quiet = quiesce()
	plans = {plan: sql_pass_seconds(hints, repeat) for plan, (hints, repeat) in PLANS.items()}
	fastest = min(plans, key=lambda plan: plans[plan]["median_seconds"])
	sql_pass = {**plans[fastest], "plan": fastest, "all_plans": plans}

	def adjacent_pass() -> float:
		"""The SQL pass again, in the state the next run finds (scored Leads read longer rows)."""
		quiesce()
		return sql_pass_seconds(*PLANS[fastest])["median_seconds"]

	open_leads = frappe.db.count("Lead", {"status": ("not in", jobs.DECIDED_STATUSES)})
	context = load_context()
	first = timed_recompute()
	baseline = sql_pass["median_seconds"]
	result = {
		"seeded": seeded,
		"seconds_until_database_quiet": quiet,
		"open_leads_on_site": open_leads,
		"rules": len(context.rules),
		"site_features_match_generator": context.features == SITE_FEATURES,
		"chunk_size": jobs.CHUNK_SIZE,
		"sql_pass": sql_pass,
		"rows_to_python": rows_to_python_seconds(),
		"recompute_rules_only_first": first,
		"ratio_rules_only_first": round(first["seconds"] / baseline, 2),
	}
	# The next day's nightly run finds the scores and trend of the first one: keep them, unless the site
	# has open Leads of its own (they would keep the benchmark's scores).
	keep = open_leads == seeded["leads"]
	if keep:
		frappe.db.commit()
		baseline = result["sql_pass_scored_seconds"] = adjacent_pass()
		next_day = timed_recompute(as_of=now_datetime() + timedelta(days=1))
		result["recompute_rules_only_next_day"] = next_day
		result["ratio_rules_only_next_day"] = round(next_day["seconds"] / baseline, 2)
	else:
		frappe.db.rollback()
	model = seeded_model() if _enabled("CRM_BENCH_LEAD_MODEL") else None
	if model is not None:
		quiesce()
		with_model = timed_recompute(model=model, as_of=now_datetime() + timedelta(days=1))
		result["recompute_with_model_next_day" if keep else "recompute_with_model_first"] = with_model
		result["ratio_with_model"] = round(with_model["seconds"] / baseline, 2)
	if keep and _enabled("CRM_BENCH_LEAD_WORKERS"):
		result["workers"] = worker_recompute(WORKERS, adjacent_pass, model)
	if _enabled("CRM_BENCH_LEAD_MEMORY"):
		result["memory"] = memory_peak()
	result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
	result["target_ratio"] = 3
	result["machine"] = machine()
	return result


def quiesce() -> float:
	"""Wait (at most ``QUIET_TIMEOUT`` seconds) until InnoDB has purged the old row versions that the seed or
	the previous run left (its history list), so that purging takes no core from the next measurement.
	Returns the seconds waited. (Dirty pages are not waited for: an idle MariaDB with the default
	``innodb_max_dirty_pages_pct_lwm = 0`` keeps some indefinitely.)"""
	started = time.monotonic()
	while time.monotonic() - started < QUIET_TIMEOUT:
		history = frappe.db.sql("show global status like 'Innodb_history_list_length'")
		if not history or int(history[0][1]) <= QUIET_HISTORY:
			break
		time.sleep(1)
	return round(time.monotonic() - started, 1)


def sql_pass_seconds(hints: tuple[str, str], repeat: int) -> dict:
	timings, rows = [], {}
	activity_hint, communication_hint = hints
	for attempt in range(repeat + 1):
		started = time.perf_counter()
		rows = {
			"activity_groups": len(frappe.db.sql(ACTIVITY_PASS.format(hint=activity_hint))),
			"communication_groups": len(frappe.db.sql(COMMUNICATION_PASS.format(hint=communication_hint))),
			"lead_rows": len(frappe.db.sql(_lead_pass())),
		}
		if attempt:  # the first pass warms the buffer pool
			timings.append(time.perf_counter() - started)
	return {"median_seconds": round(statistics.median(timings), 3), "runs": timings, "rows": rows}


def rows_to_python_seconds() -> dict:
	"""Not the target's baseline: every feed row scoring reads, fetched into Python as tuples, unscored — the
	floor of any scorer that looks at items one by one in Python."""
	started = time.perf_counter()
	activities = frappe.db.sql(
		"""select reference_name, activity_at, channel, direction, outcome
		from `tabCRM Activity` where reference_doctype = 'Lead'"""
	)
	emails = frappe.db.sql(
		"""select reference_name, communication_date, communication_medium, sent_or_received
		from `tabCommunication` where reference_doctype = 'Lead' and communication_type = 'Communication'"""
	)
	leads = frappe.db.sql(_lead_pass())
	return {
		"seconds": round(time.perf_counter() - started, 3),
		"rows": len(activities) + len(emails) + len(leads),
	}


def _lead_pass() -> str:
	fields = ", ".join(f"`{field}`" for field in scoring.fields_read(load_context()))
	statuses = ", ".join(frappe.db.escape(status) for status in jobs.DECIDED_STATUSES)
	return f"select {fields} from `tabLead` where status not in ({statuses})"


def timed_recompute(model=None, as_of=None) -> dict:
	"""One full recompute, inline, as the chunk jobs run it (``as_of`` None: now), with ``model`` stored
	for the run. Rolled back afterwards, except a rules-only run at now, which the caller commits or rolls
	back."""
	if model is not None:
		frappe.db.set_single_value(SETTINGS, {**model_values(model), "model_status": "Trained"})
		frappe.clear_document_cache(SETTINGS, SETTINGS)
	trend_before = frappe.db.count("Lead Score Log", {"lead": ("like", PREFIX + "%")})
	run_started = now_datetime()
	phases: dict[str, float] = {}
	try:
		with _phase_timers(phases):
			started = time.perf_counter()
			scored = chunks = 0
			for chunk in jobs.open_lead_chunks():
				checked = time.perf_counter()
				span = touches.lead_span(chunk)
				phases["check_span"] = phases.get("check_span", 0.0) + time.perf_counter() - checked
				scored += scoring.score_leads(chunk, as_of, span=span)
				chunks += 1
			seconds = time.perf_counter() - started
		if model is not None and load_context().scorer is None:
			raise RuntimeError("the benchmark's model was not loaded")
		trend_rows = frappe.db.count("Lead Score Log", {"lead": ("like", PREFIX + "%")}) - trend_before
		kept_points = frappe.db.count(
			"Lead", {"name": ("like", PREFIX + "%"), "trend_since": (">=", run_started)}
		)
		grades = dict(
			frappe.db.sql(
				"select lead_grade, count(*) from `tabLead` where name like %s group by lead_grade",
				(PREFIX + "%",),
			)
		)
	except BaseException:
		frappe.db.rollback()
		frappe.clear_document_cache(SETTINGS, SETTINGS)
		raise
	if model is not None or as_of is not None:
		frappe.db.rollback()
		frappe.clear_document_cache(SETTINGS, SETTINGS)
	phases["engine_and_rest"] = seconds - sum(phases.values())
	return {
		"seconds": round(seconds, 2),
		"as_of": "now" if as_of is None else str(as_of),
		"leads_scored": scored,
		"chunks": chunks,
		"leads_per_second": round(scored / seconds, 1),
		"trend_points_kept_on_leads": kept_points,
		"trend_rows_written": trend_rows,
		"grades": grades,
		"model_version": model.version if model is not None else None,
		"phase_seconds": {name: round(value, 2) for name, value in phases.items()},
	}


@contextmanager
def _phase_timers(phases: dict[str, float]):
	"""Adds the time spent in each adapter step of ``score_leads`` to ``phases``."""
	names = {
		"load_context": "load_context",
		"lead_rows": "read_leads",
		"related_documents": "read_related_documents",
		"host_touches": "read_host_feed",
		"activity_tallies": "tally_activities_in_sql",
		"_probabilities": "model_probabilities",
		"_insert_trend": "write_trend",
		"update_rows": "write_leads",
	}
	originals = {name: getattr(scoring, name) for name in names}
	original_get_all = scoring.frappe.get_all

	inside = []  # a timed step called from another (load_context's query) counts for the outer one

	def timed(phase, function):
		def wrapper(*args, **kwargs):
			if inside:
				return function(*args, **kwargs)
			inside.append(phase)
			started = time.perf_counter()
			try:
				return function(*args, **kwargs)
			finally:
				phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - started
				inside.pop()

		return wrapper

	for name, phase in names.items():
		setattr(scoring, name, timed(phase, originals[name]))
	frappe.get_all = timed("read_leads_and_chunks", original_get_all)
	original_announce = grade_a.announce
	grade_a.announce = timed("announce_grade_a", original_announce)
	try:
		yield
	finally:
		for name, function in originals.items():
			setattr(scoring, name, function)
		frappe.get_all = original_get_all
		grade_a.announce = original_announce


def memory_peak(chunks: int = MEMORY_CHUNKS) -> dict:
	"""tracemalloc peak while scoring the first ``chunks`` chunks (rolled back): scoring keeps nothing
	between chunks, so this is the peak of a full recompute too."""
	scored = 0
	tracemalloc.start()
	try:
		for number, chunk in enumerate(jobs.open_lead_chunks()):
			if number == chunks:
				break
			scored += scoring.score_leads(chunk, span=touches.lead_span(chunk))
		_current, peak = tracemalloc.get_traced_memory()
	finally:
		tracemalloc.stop()
		frappe.db.rollback()
	return {"chunks_traced": chunks, "leads_traced": scored, "tracemalloc_peak_mb": round(peak / 2**20, 1)}


def machine() -> dict:
	return {
		"cpus": os.cpu_count(),
		"load_average": os.getloadavg(),
		"python": platform.python_version(),
		"mariadb": frappe.db.sql("select version()")[0][0],
		"innodb_buffer_pool_mb": int(frappe.db.sql("select @@innodb_buffer_pool_size")[0][0]) // 2**20,
	}


# --- on workers ---


def worker_recompute(workers: int, sql_pass: Callable[[], float], model=None) -> dict:
	"""The full recompute as the site runs it: ``workers`` Frappe workers (one per core) take the jobs
	``jobs.rescore_all`` enqueues on the long queue; timed from the enqueue to the last job's end. First on
	unscored Leads, then the next day's run, each against ``sql_pass()`` measured just before it; then the
	same two with ``model`` stored in Lead Scoring Settings (committed, for the workers to read; the
	settings are put back afterwards). Each job commits, so the scores are reset to unscored (seeded Leads
	only) before each first run and at the end."""
	processes = start_workers(workers)
	try:
		result = {"workers": workers, **_worker_runs(sql_pass)}
		if model is not None:
			with _stored_model(model):
				result["with_model"] = _worker_runs(sql_pass)
		reset_scores()
		return result
	finally:
		stop_workers(processes)
		shutil.rmtree(BYTECODE_CACHE, ignore_errors=True)


def _worker_runs(sql_pass: Callable[[], float]) -> dict:
	result = {}
	for run, as_of in (("first", None), ("next_day", now_datetime() + timedelta(days=1))):
		if run == "first":
			reset_scores()
		baseline = sql_pass()
		seconds, chunks = _timed_jobs(as_of)
		result[run] = {
			"seconds": round(seconds, 2),
			"jobs": chunks,
			"sql_pass_seconds": baseline,
			"ratio": round(seconds / baseline, 2),
		}
	return result


@contextmanager
def _stored_model(model):
	"""``model`` in Lead Scoring Settings, committed; what the settings held before is put back after."""
	values = {**model_values(model), "model_status": "Trained"}
	before = {field: frappe.db.get_single_value(SETTINGS, field) for field in values}
	frappe.db.set_single_value(SETTINGS, values)
	frappe.db.commit()
	frappe.clear_document_cache(SETTINGS, SETTINGS)
	try:
		if load_context().scorer is None:
			raise RuntimeError("the benchmark's model was not loaded")
		yield
	finally:
		frappe.db.set_single_value(SETTINGS, before)
		frappe.db.commit()
		frappe.clear_document_cache(SETTINGS, SETTINGS)


def start_workers(count: int) -> list[subprocess.Popen]:
	"""``count`` workers of the long queue. They cache bytecode (in a directory of their own) as a bench's
	workers do: the benchmark's process runs with PYTHONDONTWRITEBYTECODE, and each job, a fresh fork of its
	worker, would compile the modules it imports again."""
	command = [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", "long"]
	environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
	environment["PYTHONPYCACHEPREFIX"] = BYTECODE_CACHE
	processes = [
		subprocess.Popen(command, cwd=frappe.local.sites_path, stdout=subprocess.DEVNULL, env=environment)
		for _ in range(count)
	]
	deadline = time.monotonic() + 60
	while len(Worker.all(queue=get_queue("long"))) < count:
		if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
			stop_workers(processes)
			raise RuntimeError("the benchmark's workers did not start")
		time.sleep(0.2)
	return processes


def stop_workers(processes: list[subprocess.Popen]):
	for process in processes:
		process.terminate()
	for process in processes:
		process.wait(timeout=60)


def _timed_jobs(as_of) -> tuple[float, int]:
	"""Seconds from the enqueue to the end of the last of the jobs ``jobs.rescore_all`` enqueued. Polling
	reads each job's status alone: fetching the jobs would read their arguments too (25,000 Lead names each)
	twenty times a second, on the cores the workers need."""
	started = time.perf_counter()
	ids = jobs.rescore_all(as_of=str(as_of) if as_of else None)
	connection = get_queue("long").connection
	queued = [Job(job_id, connection=connection) for job_id in ids]
	deadline = time.monotonic() + JOBS_TIMEOUT
	while True:
		statuses = [job.get_status(refresh=True) for job in queued]
		if all(status == JobStatus.FINISHED for status in statuses):
			return time.perf_counter() - started, len(ids)
		if JobStatus.FAILED in statuses or time.monotonic() > deadline:
			raise RuntimeError("a scoring job failed or hung on a worker: see the long queue's failed jobs")
		time.sleep(0.05)


def reset_scores():
	"""The seeded Leads back to never scored, and their trend removed."""
	frappe.db.sql(
		"""update `tabLead` set lead_score = 0, lead_grade = '', conversion_probability = 0,
			score_breakdown = null, score_updated_on = null,
			trend_score = 0, trend_grade = '', trend_probability = 0, trend_since = null
		where name like %s""",
		(PREFIX + "%",),
	)
	frappe.db.sql("delete from `tabLead Score Log` where lead like %s", (PREFIX + "%",))
	frappe.db.commit()


# --- cleanup ---


def cleanup():
	"""Delete exactly what the seed wrote: rows whose marking column starts with ``PREFIX``."""
	for doctype, column in SEEDED:
		while True:
			frappe.db.sql(
				f"delete from `tab{doctype}` where `{column}` like %s limit {BATCH}", (PREFIX + "%",)
			)
			deleted = frappe.db._cursor.rowcount
			frappe.db.commit()
			if deleted < BATCH:
				break


def leftovers() -> dict:
	return {doctype: frappe.db.count(doctype, {column: ("like", PREFIX + "%")}) for doctype, column in SEEDED}
