"""Recompute customer value for every customer of a company: nightly, on demand, or replaying a past date.

Pass 1 reads invoices and payments one chunk of customers at a time (`sources`) and keeps only the
engine's small per-customer summary. The model is fitted once on all summaries, every customer is scored
and tiered (RFM quintiles and tier shares are population-wide), and only then is anything written:

- one Customer Value Snapshot per customer (bulk inserts; a recompute for the same company and date
  replaces that date's snapshots);
- the value fields on the Customer, copied from those snapshots by one UPDATE … JOIN, only when
  ``as_of`` is today and the company is the one in Customer Value Settings (replaying the past, or
  scoring another company, writes history, not the Customer's current view);
- the Customer Group of customers whose tier names one (also a set-based UPDATE; the Customer's
  ``modified`` is kept, as these are computed values, not edits);
- the run's model and counts on Customer Value Settings.

One recompute runs at a time per site (a database named lock, so it holds across workers and hosts); a
second one started meanwhile waits a few seconds, then is refused. The writes run inside one savepoint:
if any fails, all are rolled back and the previous tiers stay (the job's own transaction is rolled back by
the worker too). No commit happens here.
"""

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime, nowdate

from crm_extension.api.errors import RetryLaterError
from crm_extension.customer_value.doctype.customer_value_settings.customer_value_settings import (
	get_settings,
	settings_company,
	value_settings,
)
from crm_extension.customer_value.doctype.customer_value_tier.customer_value_tier import (
	get_tier_rules,
	get_tiers,
)
from crm_extension.customer_value.engine.history import CustomerHistory, summarize_customer
from crm_extension.customer_value.engine.scoring import (
	CustomerValue,
	ValueModel,
	fit_value_model,
	score_histories,
)
from crm_extension.customer_value.engine.tiers import assign_tiers
from crm_extension.customer_value.sources import (
	PaymentBehaviour,
	load_invoice_facts,
	load_payment_behaviour,
)
from crm_extension.i18n import N_

CHUNK_SIZE = 2000
JOB_TIMEOUT = 4 * 60 * 60
LOCK_WAIT_SECONDS = 10
SAVEPOINT = "customer_value_recompute"
SNAPSHOT = "Customer Value Snapshot"
PREDICTIONS_NOT_FINITE = N_("The value model gave no finite prediction for some customers")
NO_PAYMENTS = PaymentBehaviour(avg_days_to_pay=None, overdue_amount=0.0)

SNAPSHOT_FIELDS = (
	"name",
	"customer",
	"as_of",
	"company",
	"recompute_id",
	"value_tier",
	"rfm_segment",
	"r_score",
	"f_score",
	"m_score",
	"is_fallback",
	"recency_days",
	"purchase_count",
	"monetary_value",
	"gross_margin",
	"predicted_clv",
	"probability_alive",
	"expected_purchases",
	"expected_purchases_90d",
	"avg_days_to_pay",
	"overdue_amount",
	"owner",
	"modified_by",
	"creation",
	"modified",
)


@dataclass
class RecomputeRun:
	recompute_id: str
	company: str
	as_of: date
	customers: list[str]
	histories: dict[str, CustomerHistory]
	payments: dict[str, PaymentBehaviour]
	model: ValueModel | None = None
	scores: dict[str, CustomerValue] | None = None
	tiers: dict[str, str] | None = None
	snapshots_written: int = 0  # numbers the snapshot names of this run: "<recompute_id>-<n>"
	updates_customers: bool = False


def queue_recompute(as_of: str | None = None, company: str | None = None) -> str:
	"""Queue a recompute on the long queue (one per company and date at a time); returns the job id."""
	job_id = f"crm_customer_value_recompute::{company or ''}::{as_of or ''}"
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
		customers=list(customers) if customers is not None else _all_customers(),
		histories={},
		payments={},
	)
	run.updates_customers = run.as_of == getdate(nowdate()) and run.company == settings_company(settings)
	with one_run_at_a_time():
		return _recompute(run, settings, chunk_size)


def _recompute(run: RecomputeRun, settings, chunk_size: int) -> dict:
	tiers = get_tiers()
	rules = get_tier_rules(tiers)
	config = value_settings(settings)

	_summarise(run, config.rfm_window_days, chunk_size)
	_progress(80, _("Fitting the value model"))
	run.model = fit_value_model(run.histories, config)
	run.scores = score_histories(run.histories, run.model, config)
	if not run.model.is_fallback and not _all_finite(run.scores):
		# A fit at the edge of the parameter space can overflow for some customers: use the fallback.
		run.model = ValueModel(None, None, PREDICTIONS_NOT_FINITE)
		run.scores = score_histories(run.histories, run.model, config)
	overdue = {name for name, payment in run.payments.items() if payment.overdue_amount > 0}
	values = {name: score.predicted_clv for name, score in run.scores.items()}
	run.tiers = assign_tiers(values, rules, overdue, bool(settings.demote_overdue)) if values else {}

	write_results(run, chunk_size)
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


def _all_finite(scores: dict[str, CustomerValue]) -> bool:
	return all(
		math.isfinite(value)
		for score in scores.values()
		for value in (score.predicted_clv, score.probability_alive, score.expected_purchases_90d)
	)


def _as_of(value: str | date | None) -> date:
	today = getdate(nowdate())
	as_of = getdate(value) if value else today
	if as_of > today:
		frappe.throw(_("Customer value cannot be computed for a future date"), title=_("Invalid Date"))
	return as_of


def _all_customers() -> list[str]:
	return frappe.get_all("Customer", pluck="name", order_by="name")


def chunks(names: Sequence[str], size: int) -> Iterator[Sequence[str]]:
	for start in range(0, len(names), max(size, 1)):
		yield names[start : start + size]


def _summarise(run: RecomputeRun, window_days: int, chunk_size: int):
	"""Pass 1: one invoice query and two payment queries per chunk; only summaries are kept."""
	total = len(run.customers)
	for done, chunk in enumerate(chunks(run.customers, chunk_size)):
		facts = load_invoice_facts(chunk, run.company, run.as_of)
		for name in chunk:
			run.histories[name] = summarize_customer(facts.get(name, ()), run.as_of, window_days)
		run.payments.update(load_payment_behaviour(chunk, run.company, run.as_of))
		read = min((done + 1) * chunk_size, total)
		_progress(75 * read / total, _("Read the sales of {0} of {1} customers").format(read, total))


def write_results(run: RecomputeRun, chunk_size: int = CHUNK_SIZE):
	"""All writes of a run, all or nothing (see module docstring)."""
	frappe.db.savepoint(SAVEPOINT)
	try:
		for done, chunk in enumerate(chunks(run.customers, chunk_size)):
			_replace_snapshots(run, chunk)
			written = min((done + 1) * chunk_size, len(run.customers))
			_progress(80 + 15 * written / len(run.customers), _("Writing customer value"))
		if run.updates_customers:
			_update_customers(run.recompute_id)
			_sync_customer_groups(run.recompute_id)
		_record_run(run)
	except Exception:
		frappe.db.rollback(save_point=SAVEPOINT)
		raise
	frappe.db.release_savepoint(SAVEPOINT)


def _replace_snapshots(run: RecomputeRun, chunk: Sequence[str]):
	snapshot = frappe.qb.DocType(SNAPSHOT)
	frappe.qb.from_(snapshot).delete().where(
		(snapshot.company == run.company) & (snapshot.as_of == run.as_of) & snapshot.customer.isin(chunk)
	).run()
	now, user = now_datetime(), frappe.session.user
	insert_rows(SNAPSHOT, SNAPSHOT_FIELDS, [_snapshot_row(run, name, now, user) for name in chunk])


def insert_rows(doctype: str, fields: Sequence[str], rows: list[tuple]):
	"""One multi-row INSERT with driver-escaped values. (``frappe.db.bulk_insert`` builds the same
	statement through pypika, which at tens of thousands of snapshots cost more than the database did.)"""
	if not rows:
		return
	columns = ", ".join(f"`{field}`" for field in fields)
	placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
	frappe.db.sql(
		f"INSERT INTO `tab{doctype}` ({columns}) VALUES {', '.join([placeholders] * len(rows))}",
		[value for row in rows for value in row],
	)


def _snapshot_row(run: RecomputeRun, name: str, now, user: str) -> tuple:
	score = run.scores[name]
	payment = run.payments.get(name, NO_PAYMENTS)
	run.snapshots_written += 1
	return (
		f"{run.recompute_id}-{run.snapshots_written}",
		name,
		run.as_of,
		run.company,
		run.recompute_id,
		run.tiers.get(name),
		score.segment,
		score.r_score,
		score.f_score,
		score.m_score,
		int(score.is_fallback),
		score.recency_days or 0,
		score.frequency,
		score.monetary,
		run.histories[name].window_margin,
		score.predicted_clv,
		100 * score.probability_alive,
		score.expected_purchases,
		score.expected_purchases_90d,
		payment.avg_days_to_pay or 0,
		payment.overdue_amount,
		user,
		user,
		now,
		now,
	)


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
	"""Customers in a tier that names a Customer Group move to it; other customers keep their group."""
	frappe.db.sql(
		"""
		UPDATE `tabCustomer` customer
		JOIN `tabCustomer Value Snapshot` snapshot ON snapshot.customer = customer.name
		JOIN `tabCustomer Value Tier` tier ON tier.name = snapshot.value_tier
		SET customer.customer_group = tier.sync_customer_group
		WHERE snapshot.recompute_id = %(recompute_id)s AND IFNULL(tier.sync_customer_group, '') != ''
			AND customer.customer_group != tier.sync_customer_group
		""",
		{"recompute_id": recompute_id},
	)


def _record_run(run: RecomputeRun):
	frappe.db.set_single_value(
		"Customer Value Settings",
		{
			"last_recompute_on": now_datetime(),
			"last_as_of": run.as_of,
			"customers_scored": len(run.customers),
			"model_status": _model_status(run.model),
			"model_parameters": json.dumps(run.model.params(), indent=1),
		},
	)


def _model_status(model: ValueModel) -> str:
	if model.is_fallback:
		return _("Fallback estimate: {0}").format(_(model.fallback_reason))
	return _("BG/NBD and Gamma-Gamma fitted on {0} customers").format(model.bgnbd.customers)


def summary(run: RecomputeRun, tier_names: list[str]) -> dict:
	counts = dict.fromkeys(tier_names, 0)
	for tier in run.tiers.values():
		counts[tier] = counts.get(tier, 0) + 1
	return {
		"customers": len(run.customers),
		"as_of": str(run.as_of),
		"company": run.company,
		"tiers": counts,
		"model": run.model.params(),
		"fallback_reason": _(run.model.fallback_reason) if run.model.is_fallback else None,
	}


def _progress(percent: float, description: str):
	frappe.publish_progress(round(percent), title=_("Customer Value"), description=description)
