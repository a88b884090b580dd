"""Tier migration matrix between two snapshot dates: how many customers moved from each tier (rows, on
the earlier date) to each tier (columns, on the later date). Customers without a snapshot on the earlier
date count as "Not Scored". Without dates, the two latest snapshot dates of the company are compared.
Only snapshots of customers the user may read are counted. Older snapshots are thinned out to month-ends
by the retention policy, so a date is read as of the latest snapshot date on or before it."""

import frappe
from frappe import _
from frappe.utils import getdate

from crm_extension.customer_value.doctype.customer_value_settings.customer_value_settings import (
	get_settings,
	settings_company,
)

NOT_SCORED = "__not_scored__"


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	company = settings_company(get_settings(), filters.get("company") or None)
	from_date, to_date = snapshot_dates(filters, company)
	tiers = frappe.get_all("Customer Value Tier", order_by="`rank` asc", pluck="name")
	if not (from_date and to_date):
		return get_columns(tiers), [], _("At least two recomputes are needed to compare tiers")
	# Snapshots before the daily retention window are kept for month-ends only (customer_value.retention):
	# a date without snapshots is read as of the latest snapshot date on or before it.
	from_kept, to_kept = kept_date(company, from_date), kept_date(company, to_date)
	before = tiers_on(company, from_kept)
	after = tiers_on(company, to_kept)
	message = None
	if (from_kept, to_kept) != (from_date, to_date) and from_kept and to_kept:
		message = _("Compared the snapshots of {0} and {1}, the latest kept on or before each date").format(
			from_kept, to_kept
		)
	return get_columns(tiers), get_rows(tiers, before, after), message


def snapshot_dates(filters, company: str) -> tuple:
	if filters.get("from_date") and filters.get("to_date"):
		from_date, to_date = getdate(filters.from_date), getdate(filters.to_date)
		if from_date >= to_date:
			frappe.throw(_("From Date must be before To Date"))
		return from_date, to_date
	latest = frappe.get_list(
		"Customer Value Snapshot",
		filters={"company": company},
		fields=["as_of"],
		group_by="as_of",
		order_by="as_of desc",
		limit_page_length=2,
		pluck="as_of",
	)
	return (latest[1], latest[0]) if len(latest) == 2 else (None, None)


def kept_date(company: str, as_of):
	"""The latest snapshot date of the company on or before ``as_of`` (``as_of`` itself when it has one)."""
	latest = frappe.db.sql(
		"""SELECT MAX(as_of) FROM `tabCustomer Value Snapshot` WHERE company = %s AND as_of <= %s""",
		(company, as_of),
	)[0][0]
	return getdate(latest) if latest else as_of


def tiers_on(company: str, as_of) -> dict[str, str]:
	# frappe.get_list applies the user's permissions (a snapshot links to its Customer).
	rows = frappe.get_list(
		"Customer Value Snapshot",
		filters={"company": company, "as_of": as_of},
		fields=["customer", "value_tier"],
		limit_page_length=0,
	)
	return {row.customer: row.value_tier for row in rows}


def get_columns(tiers: list[str]) -> list[dict]:
	columns = [{"fieldname": "from_tier", "label": _("From Tier"), "fieldtype": "Data", "width": 140}]
	columns += [
		{"fieldname": frappe.scrub(tier), "label": _(tier), "fieldtype": "Int", "width": 110}
		for tier in tiers
	]
	columns.append({"fieldname": "total", "label": _("Total"), "fieldtype": "Int", "width": 100})
	return columns


def get_rows(tiers: list[str], before: dict[str, str], after: dict[str, str]) -> list[dict]:
	counts: dict[tuple[str, str], int] = {}
	for customer, tier in after.items():
		key = (before.get(customer) or NOT_SCORED, tier)
		counts[key] = counts.get(key, 0) + 1
	rows = []
	for from_tier in [*tiers, NOT_SCORED]:
		row = {"from_tier": _("Not Scored") if from_tier == NOT_SCORED else _(from_tier)}
		for tier in tiers:
			row[frappe.scrub(tier)] = counts.get((from_tier, tier), 0)
		row["total"] = sum(row[frappe.scrub(tier)] for tier in tiers)
		rows.append(row)
	return rows
