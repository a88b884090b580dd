"""Recompute customer value for every customer of a company: nightly, on demand, or replaying a past date.

Memory stays bounded by the chunk size, whatever the number of customers: the run's population lives in
its Customer Value Snapshot rows (``snapshot_store``), not in Python.

1. Stage: a chunk of customers at a time, read invoices and payments (``sources``), summarise each
   customer (engine) and insert one snapshot row with its metrics and the model's inputs; the model's fit
   data goes into a bounded ``FitSample``. (A recompute for the same company and date replaces that date's
   snapshots.)
2. Fit the value model on the sample; find the RFM cut values of the population from the staged rows.
3. Score: a chunk of staged rows at a time, score against the model and the cuts, update the rows.
4. Tier: find the customers at the tier share cuts, then place each staged row in its tier.
5. Copy the values to the Customer by one UPDATE … JOIN, only when ``as_of`` is today and the company is
   the one in Customer Value Settings (replaying the past, or scoring another company, writes history,
   not the Customer's current view; the Customer's ``modified`` is kept, as these are computed values);
   move customers whose tier names a Customer Group to it and those who left such a tier back to their
   own group (``customer_groups``: set-based, with ``modified`` and a Version per move); record the run's
   model and counts on Customer Value Settings.

One recompute runs at a time per site (a database named lock, so it holds across workers and hosts); a
second one started meanwhile waits a few seconds, then is refused. All writes run inside one savepoint:
if any step fails, everything is rolled back and the previous tiers and snapshots stay (the job's own
transaction is rolled back by the worker too). No commit happens here.
"""

import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime, nowdate

from crm_extension.api.errors import RetryLaterError
from crm_extension.bulk_sql import insert_rows
from crm_extension.customer_value.customer_groups import sync_customer_groups
from crm_extension.customer_value.doctype.customer_value_settings.customer_value_settings import (
	get_settings,
	settings_company,
	value_settings,
)
from crm_extension.customer_value.doctype.customer_value_tier.customer_value_tier import (
	get_tier_rules,
	get_tiers,
)
from crm_extension.customer_value.engine.fit_sample import FitSample
from crm_extension.customer_value.engine.history import (
	CustomerHistory,
	repeat_summary_days,
	repeat_summary_from_days,
	summarize_customer,
)
from crm_extension.customer_value.engine.rfm import RfmCuts, RfmPopulation, RfmValues
from crm_extension.customer_value.engine.scoring import (
	CustomerValue,
	ValueModel,
	ValueSettings,
	fit_sampled_model,
	score_histories,
)
from crm_extension.customer_value.engine.tiers import tier_cuts, tier_of
from crm_extension.customer_value.snapshot_store import (
	SNAPSHOT,
	SnapshotColumn,
	delete_snapshots,
	has_snapshots,
	set_tiers,
	staged_chunks,
	tier_order_key_at,
	update_staged_rows,
)
from crm_extension.customer_value.sources import (
	PaymentBehaviour,
	load_invoice_facts,
	load_payment_behaviour,
)
from crm_extension.dead_jobs import fail_jobs_of_dead_workers
from crm_extension.i18n import N_

CHUNK_SIZE = 2000
JOB_TIMEOUT = 4 * 60 * 60
LOCK_WAIT_SECONDS = 10
SAVEPOINT = "customer_value_recompute"
NO_PAYMENTS = PaymentBehaviour(avg_days_to_pay=None, overdue_amount=0.0)
PREDICTIONS_NOT_FINITE = N_("The value model gave no finite prediction for some customers")

# What pass 2 reads back to rebuild a customer's history (``staged_history``).
HISTORY_FIELDS = (
	"has_purchased",
	"recency_days",
	"purchase_count",
	"monetary_value",
	"gross_margin",
	"repeat_purchases",
	"first_to_last_purchase_days",
	"first_purchase_to_as_of_days",
	"repeat_margin_mean",
)
STAGED_FIELDS = (
	"name",
	"customer",
	"as_of",
	"company",
	"recompute_id",
	*HISTORY_FIELDS,
	"avg_days_to_pay",
	"overdue_amount",
	"owner",
	"modified_by",
	"creation",
	"modified",
)
SCORE_FIELDS = (
	"name",
	"rfm_segment",
	"r_score",
	"f_score",
	"m_score",
	"is_fallback",
	"predicted_clv",
	"probability_alive",
	"expected_purchases",
	"expected_purchases_90d",
)


@dataclass
class RecomputeRun:
	recompute_id: str
	company: str
	as_of: date
	customers: Sequence[str] | None  # None: every Customer, read a chunk at a time
	chunk_size: int
	staged: int = 0  # rows staged so far; numbers the snapshot names "<recompute_id>-<n>"
	rfm_population: RfmPopulation = field(default_factory=RfmPopulation)
	model: ValueModel | None = None
	purchasers: int = 0  # customers with a purchase up to as_of (the fit may use a sample of them)
	tiers: Counter = field(default_factory=Counter)
	updates_customers: bool = False


def queue_recompute(as_of: str | None = None, company: str | None = None) -> str:
	"""Queue a recompute on the long queue (one per company and date at a time); returns the job id. A
	recompute whose worker was killed does not count once its heartbeat has expired (``dead_jobs``)."""
	job_id = f"crm_customer_value_recompute::{company or ''}::{as_of or ''}"
	fail_jobs_of_dead_workers("long")
	frappe.enqueue(
		"crm_extension.customer_value.recompute.recompute",
		queue="long",
		timeout=JOB_TIMEOUT,
		job_id=job_id,
		deduplicate=True,
		enqueue_after_commit=True,
		as_of=as_of,
		company=company,
	)
	return job_id


def nightly_recompute():
	"""Scheduled on ``daily_long`` (already the long queue): recompute today's values if enabled."""
	if get_settings().nightly_recompute:
		recompute()


def recompute(
	as_of: str | date | None = None,
	company: str | None = None,
	customers: Sequence[str] | None = None,
	chunk_size: int = CHUNK_SIZE,
) -> dict:
	"""Score every customer (or the given ones) as of a date and write the results; returns the summary
	``{customers, tiers: {name: count}, model: {...}, fallback_reason, as_of, company}``."""
	settings = get_settings()
	run = RecomputeRun(
		recompute_id=frappe.generate_hash(length=12),
		company=settings_company(settings, company),
		as_of=_as_of(as_of),
		customers=customers,
		chunk_size=max(int(chunk_size), 1),
	)
	run.updates_customers = run.as_of == getdate(nowdate()) and run.company == settings_company(settings)
	with one_run_at_a_time():
		frappe.db.savepoint(SAVEPOINT)
		try:
			result = _recompute(run, settings)
		except Exception:
			frappe.db.rollback(save_point=SAVEPOINT)
			raise
		frappe.db.release_savepoint(SAVEPOINT)
		return result


def _recompute(run: RecomputeRun, settings) -> dict:
	tiers = get_tiers()
	config = value_settings(settings)

	sample = _stage(run, config.rfm_window_days)
	_progress(60, _("Fitting the value model"))
	run.model = fit_sampled_model(sample, config)
	run.purchasers = sample.purchasers
	cuts = rfm_cuts(run)
	if not _score(run, config, cuts):
		# A fit at the edge of the parameter space can overflow for some customers: use the fallback.
		run.model = ValueModel(None, None, PREDICTIONS_NOT_FINITE)
		_score(run, config, cuts)
	_tier(run, get_tier_rules(tiers), bool(settings.demote_overdue))
	if run.updates_customers:
		_update_customers(run.recompute_id)
		_sync_customer_groups(run.recompute_id)
	_record_run(run)
	_progress(100, _("Customer value is up to date"))
	return summary(run, [tier["name"] for tier in tiers])


@contextmanager
def one_run_at_a_time():
	"""A MariaDB named lock (per site database), released when the run ends; waits LOCK_WAIT_SECONDS."""
	lock = lock_name()
	if not frappe.db.sql("SELECT GET_LOCK(%s, %s)", (lock, LOCK_WAIT_SECONDS))[0][0]:
		frappe.throw(
			_("A customer value recompute is already running"), RetryLaterError, title=_("Please Wait")
		)
	try:
		yield
	finally:
		frappe.db.sql("SELECT RELEASE_LOCK(%s)", lock)


def lock_name() -> str:
	return f"crm_customer_value_{frappe.conf.db_name}"[:64]


def _as_of(value: str | date | None) -> date:
	today = getdate(nowdate())
	as_of = getdate(value) if value else today
	if as_of > today:
		frappe.throw(_("Customer value cannot be computed for a future date"), title=_("Invalid Date"))
	return as_of


def customer_chunks(run: RecomputeRun) -> Iterator[Sequence[str]]:
	if run.customers is not None:
		for start in range(0, len(run.customers), run.chunk_size):
			yield run.customers[start : start + run.chunk_size]
	else:
		yield from _all_customer_chunks(run.chunk_size)


def _all_customer_chunks(size: int) -> Iterator[list[str]]:
	last = ""
	while names := frappe.get_all(
		"Customer", filters={"name": (">", last)}, pluck="name", order_by="name", limit=size
	):
		yield names
		last = names[-1]


def _customer_count(run: RecomputeRun) -> int:
	return len(run.customers) if run.customers is not None else frappe.db.count("Customer")


# --- 1. stage ----------------------------------------------------------------------------------------


def _stage(run: RecomputeRun, window_days: int) -> FitSample:
	"""One invoice query and one payment query per chunk; one snapshot row per customer."""
	sample, total = FitSample(), max(_customer_count(run), 1)
	now, user = now_datetime(), frappe.session.user
	replaces = has_snapshots(run.company, run.as_of)  # a second run on one date (usually none)
	for chunk in customer_chunks(run):
		facts = load_invoice_facts(chunk, run.company, run.as_of)
		payments = load_payment_behaviour(chunk, run.company, run.as_of)
		rows = []
		for name in chunk:
			history = summarize_customer(facts.pop(name, ()), run.as_of, window_days)
			sample.add(history.repeat)
			run.rfm_population.add(history.rfm)
			rows.append(_staged_row(run, name, history, payments.get(name, NO_PAYMENTS), now, user))
		if replaces:
			delete_snapshots(run.company, run.as_of, chunk)
		insert_rows(SNAPSHOT, STAGED_FIELDS, rows)
		_progress(
			60 * min(run.staged, total) / total,
			_("Read the sales of {0} of {1} customers").format(run.staged, total),
		)
	return sample


def _staged_row(run: RecomputeRun, name: str, history: CustomerHistory, payment, now, user) -> tuple:
	run.staged += 1
	repeat = history.repeat
	first_to_last, first_to_as_of = repeat_summary_days(repeat) if repeat else (0, 0)
	return (
		f"{run.recompute_id}-{run.staged}",
		name,
		run.as_of,
		run.company,
		run.recompute_id,
		int(repeat is not None),
		history.rfm.recency_days or 0,
		history.rfm.frequency,
		history.rfm.monetary,
		history.window_margin,
		repeat.frequency if repeat else 0,
		first_to_last,
		first_to_as_of,
		repeat.repeat_margin_mean if repeat else 0,
		payment.avg_days_to_pay or 0,
		payment.overdue_amount,
		user,
		user,
		now,
		now,
	)


# --- 2. score ----------------------------------------------------------------------------------------


def rfm_cuts(run: RecomputeRun) -> RfmCuts:
	"""The population's RFM cut values: recency and frequency from the staging histograms, the monetary
	value asked of the staged rows."""
	return run.rfm_population.cuts(SnapshotColumn(run.recompute_id, "monetary_value"))


def _score(run: RecomputeRun, config: ValueSettings, cuts: RfmCuts) -> bool:
	"""Score every staged row; False (rows half-scored, to be scored again) on a non-finite prediction."""
	for done, rows in enumerate(staged_chunks(run.recompute_id, HISTORY_FIELDS, run.chunk_size), 1):
		scores = score_histories({row.name: staged_history(row) for row in rows}, run.model, config, cuts)
		if not run.model.is_fallback and not _all_finite(scores):
			return False
		update_staged_rows(SCORE_FIELDS, [_score_row(name, score) for name, score in scores.items()])
		_progress(
			60 + 20 * min(done * run.chunk_size, run.staged) / max(run.staged, 1), _("Scoring customers")
		)
	return True


def staged_history(row) -> CustomerHistory:
	purchased = bool(row.has_purchased)
	repeat = repeat_summary_from_days(
		row.repeat_purchases,
		row.first_to_last_purchase_days,
		row.first_purchase_to_as_of_days,
		float(row.repeat_margin_mean),
	)
	return CustomerHistory(
		repeat=repeat if purchased else None,
		rfm=RfmValues(
			recency_days=row.recency_days if purchased else None,
			frequency=row.purchase_count,
			monetary=float(row.monetary_value),
		),
		window_margin=float(row.gross_margin),
	)


def _all_finite(scores: dict[str, CustomerValue]) -> bool:
	return all(
		math.isfinite(value)
		for score in scores.values()
		for value in (score.predicted_clv, score.probability_alive, score.expected_purchases_90d)
	)


def _score_row(name: str, score: CustomerValue) -> tuple:
	return (
		name,
		score.segment,
		score.r_score,
		score.f_score,
		score.m_score,
		int(score.is_fallback),
		score.predicted_clv,
		100 * score.probability_alive,
		score.expected_purchases,
		score.expected_purchases_90d,
	)


# --- 3. tier -----------------------------------------------------------------------------------------


def _tier(run: RecomputeRun, rules: list, demote_overdue: bool):
	if not run.staged:
		return
	cuts = tier_cuts(rules, run.staged, tier_order_key_at(run.recompute_id))
	fields = ("customer", "predicted_clv", "overdue_amount")
	for done, rows in enumerate(staged_chunks(run.recompute_id, fields, run.chunk_size), 1):
		names_by_tier: dict[str, list[str]] = {}
		for row in rows:
			overdue = row.overdue_amount > 0
			tier = tier_of(cuts, float(row.predicted_clv), row.customer, overdue, demote_overdue)
			names_by_tier.setdefault(tier, []).append(row.name)
			run.tiers[tier] += 1
		set_tiers(names_by_tier)
		_progress(80 + 15 * min(done * run.chunk_size, run.staged) / run.staged, _("Assigning value tiers"))


# --- 4. copy to the Customer ---------------------------------------------------------------------------


def _update_customers(recompute_id: str):
	frappe.db.sql(
		"""
		UPDATE `tabCustomer` customer
		JOIN `tabCustomer Value Snapshot` snapshot ON snapshot.customer = customer.name
		SET customer.value_tier = snapshot.value_tier,
			customer.rfm_segment = snapshot.rfm_segment,
			customer.recency_days = snapshot.recency_days,
			customer.purchase_count = snapshot.purchase_count,
			customer.monetary_value = snapshot.monetary_value,
			customer.gross_margin = snapshot.gross_margin,
			customer.predicted_clv = snapshot.predicted_clv,
			customer.probability_alive = snapshot.probability_alive,
			customer.avg_days_to_pay = snapshot.avg_days_to_pay,
			customer.value_updated_on = snapshot.creation
		WHERE snapshot.recompute_id = %(recompute_id)s
		""",
		{"recompute_id": recompute_id},
	)


def _sync_customer_groups(recompute_id: str):
	sync_customer_groups(recompute_id)


def _record_run(run: RecomputeRun):
	frappe.db.set_single_value(
		"Customer Value Settings",
		{
			"last_recompute_on": now_datetime(),
			"last_as_of": run.as_of,
			"customers_scored": run.staged,
			"model_status": _model_status(run.model, run.purchasers),
			"model_parameters": json.dumps(run.model.params(), indent=1),
		},
	)


def _model_status(model: ValueModel, purchasers: int) -> str:
	if model.is_fallback:
		return _("Fallback estimate: {0}").format(_(model.fallback_reason))
	if model.bgnbd.customers < purchasers:
		return _(
			"BG/NBD and Gamma-Gamma fitted on a sample of {0} of the {1} customers who purchased"
		).format(model.bgnbd.customers, purchasers)
	return _("BG/NBD and Gamma-Gamma fitted on {0} customers").format(model.bgnbd.customers)


def summary(run: RecomputeRun, tier_names: list[str]) -> dict:
	return {
		"customers": run.staged,
		"as_of": str(run.as_of),
		"company": run.company,
		"tiers": {**dict.fromkeys(tier_names, 0), **run.tiers},
		"model": run.model.params(),
		"fallback_reason": _(run.model.fallback_reason) if run.model.is_fallback else None,
	}


def _progress(percent: float, description: str):
	frappe.publish_progress(round(percent), title=_("Customer Value"), description=description)
