"""REST API of customer value: recompute, one customer's profile, and a backtest of the purchase model.

``recompute`` runs synchronously and answers with the run's summary (the contract below). Scoring is
set-based, so a site with tens of thousands of customers finishes within a request on a normal worker
timeout; larger sites, the desk button and the nightly job use ``queue_recompute`` (long queue) instead.

- ``recompute(as_of=None, company=None)`` → ``{customers, tiers: {name: count}, model: {r, alpha, a, b,
  p, q, gamma, log_likelihood}, fallback_reason, as_of, company}``. With ``as_of`` only invoices posted on
  or before it count; a past ``as_of`` writes snapshots for that date and leaves the Customer fields as
  they are.
- ``queue_recompute(as_of=None, company=None)`` → ``{job_id}``.
- ``profile(customer)`` → the Customer's value fields, overdue amount and expected purchases in the next
  90 days (latest snapshot), tier history (snapshots, oldest first) and monthly sales and margin of the
  last 12 months.
- ``backtest(calibration_end, holdout_end, company=None)`` → predicted vs actual repeat purchase days in
  the hold-out, in total and by decile of predicted purchases, with the fitted parameters and a chart.

Recompute and backtest are for CRM Extension Managers and Sales Managers; a profile for whoever may read
the Customer.
"""

import math
from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import add_months, get_first_day, getdate, nowdate

from crm_extension.api.errors import UnprocessableEntityError
from crm_extension.customer_value import recompute as recompute_module
from crm_extension.customer_value.custom_fields import VALUE_FIELDNAMES
from crm_extension.customer_value.doctype.customer_value_settings.customer_value_settings import (
	get_settings,
	settings_company,
)
from crm_extension.customer_value.engine.backtest import backtest_purchases
from crm_extension.customer_value.engine.scoring import PURCHASE_MODEL_FAILED
from crm_extension.customer_value.engine.tiers import hex_color
from crm_extension.customer_value.sources import load_invoice_facts, load_purchase_dates
from crm_extension.setup.roles import CRM_EXTENSION_MANAGER

MANAGER_ROLES = (CRM_EXTENSION_MANAGER, "Sales Manager", "System Manager")
HISTORY_SNAPSHOTS = 24
CHART_MONTHS = 12
MIN_BACKTEST_CUSTOMERS = 2


@frappe.whitelist(methods=["POST"])
def recompute(as_of: str | None = None, company: str | None = None) -> dict:
	check_manager()
	return recompute_module.recompute(as_of=as_of or None, company=company or None)


@frappe.whitelist(methods=["POST"])
def queue_recompute(as_of: str | None = None, company: str | None = None) -> dict:
	check_manager()
	if company:
		settings_company(get_settings(), company)
	return {"job_id": recompute_module.queue_recompute(as_of=as_of or None, company=company or None)}


@frappe.whitelist(methods=["GET", "POST"])
def profile(customer: str) -> dict:
	if not frappe.db.exists("Customer", customer):
		frappe.throw(
			_("{0} {1} does not exist").format(_("Customer"), frappe.bold(customer)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
	frappe.has_permission("Customer", "read", customer, throw=True)
	values = frappe.db.get_value("Customer", customer, list(VALUE_FIELDNAMES), as_dict=True)
	history = tier_history(customer)
	latest = history[-1] if history else {}
	# Recency 0 with no purchase day in the window can only mean "never purchased" (stored as 0).
	never_purchased = not values.purchase_count and not values.recency_days
	return {
		"customer": customer,
		**values,
		"recency_days": None if never_purchased else values.recency_days,
		# Drawn into a style attribute: only ever a hex colour (a value stored before validation is dropped).
		"tier_color": hex_color(frappe.db.get_value("Customer Value Tier", values.value_tier, "color"))
		if values.value_tier
		else None,
		"overdue_amount": latest.get("overdue_amount", 0),
		"expected_purchases_90d": latest.get("expected_purchases_90d", 0),
		"history": history,
		"purchases_by_month": purchases_by_month(customer),
	}


@frappe.whitelist(methods=["GET", "POST"])
def backtest(calibration_end: str, holdout_end: str, company: str | None = None) -> dict:
	check_manager()
	calibration_end, holdout_end = getdate(calibration_end), getdate(holdout_end)
	if not calibration_end < holdout_end <= getdate(nowdate()):
		frappe.throw(
			_("The calibration period must end before the hold-out period, which cannot end in the future"),
			title=_("Invalid Dates"),
		)
	company = settings_company(get_settings(), company or None)
	dates = load_purchase_dates(company, holdout_end)
	if sum(any(day <= calibration_end for day in days) for days in dates.values()) < MIN_BACKTEST_CUSTOMERS:
		frappe.throw(
			_("Too few customers bought before {0} to fit the purchase model").format(calibration_end),
			UnprocessableEntityError,
			title=_("Not Enough Data"),
		)
	result = backtest_purchases(dates, calibration_end, holdout_end)
	if not result.fit.converged or not math.isfinite(result.predicted_total):
		frappe.throw(_(PURCHASE_MODEL_FAILED), UnprocessableEntityError, title=_("Not Enough Data"))
	return backtest_answer(result)


def check_manager():
	if frappe.session.user != "Administrator" and not set(MANAGER_ROLES) & set(frappe.get_roles()):
		frappe.throw(
			_("Only a CRM Extension Manager or a Sales Manager may do this"),
			frappe.PermissionError,
			title=_("Not Permitted"),
		)


def tier_history(customer: str) -> list[dict]:
	rows = frappe.get_all(
		"Customer Value Snapshot",
		filters={"customer": customer},
		fields=[
			"as_of",
			"company",
			"value_tier",
			"rfm_segment",
			"predicted_clv",
			"probability_alive",
			"monetary_value",
			"expected_purchases_90d",
			"overdue_amount",
		],
		order_by="as_of desc, name desc",
		limit=HISTORY_SNAPSHOTS,
	)
	return rows[::-1]


def purchases_by_month(customer: str) -> list[dict]:
	"""Net sales and margin per month over the last CHART_MONTHS months (the form's chart)."""
	today = getdate(nowdate())
	first_month = get_first_day(add_months(today, -(CHART_MONTHS - 1)))
	company = settings_company(get_settings())
	totals = defaultdict(lambda: [0.0, 0.0])
	# only the months drawn are read, not the customer's whole history
	for fact in load_invoice_facts([customer], company, today, since=first_month).get(customer, []):
		month = getdate(fact.posting_date).strftime("%Y-%m")
		totals[month][0] += fact.revenue
		totals[month][1] += fact.margin
	months = [add_months(first_month, offset).strftime("%Y-%m") for offset in range(CHART_MONTHS)]
	return [{"month": month, "revenue": totals[month][0], "margin": totals[month][1]} for month in months]


def backtest_answer(result) -> dict:
	params = result.fit.params
	return {
		"customers": result.customers,
		"holdout_weeks": result.holdout_weeks,
		"predicted_total": result.predicted_total,
		"actual_total": result.actual_total,
		"model": {
			"r": params.r,
			"alpha": params.alpha,
			"a": params.a,
			"b": params.b,
			"log_likelihood": result.fit.log_likelihood,
			"converged": result.fit.converged,
		},
		"deciles": [vars(row) for row in result.deciles],
		"chart": {
			"labels": [str(row.decile) for row in result.deciles],
			"datasets": [
				{"name": _("Predicted"), "values": [row.predicted for row in result.deciles]},
				{"name": _("Actual"), "values": [row.actual for row in result.deciles]},
			],
		},
	}
