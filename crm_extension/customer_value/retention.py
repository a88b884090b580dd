"""Customer Value Snapshots thinned out by the retention policy in Customer Value Settings.

A recompute writes one snapshot per customer per day; kept for ever that is about 18 M rows a year at
50,000 customers. The scheduler (``daily_long``) keeps every snapshot of the last ``daily_snapshot_days``
days and, before that, the last snapshot date of each month per company (``engine.retention``): what the
Customer Tier Movement report compares and a customer's tier history draws. Rows go by name,
ROWS_PER_STATEMENT a statement; a job deletes at most STATEMENTS_PER_JOB statements' worth and queues the
next one (after its own commit), so no transaction grows without bound.
"""

import frappe
from frappe.utils import getdate, nowdate

from crm_extension.customer_value.doctype.customer_value_settings.customer_value_settings import get_settings
from crm_extension.customer_value.engine.retention import dates_to_drop
from crm_extension.customer_value.snapshot_store import SNAPSHOT, TABLE

ROWS_PER_STATEMENT = 5000
STATEMENTS_PER_JOB = 40


def prune_snapshots() -> int:
	"""Delete the snapshots the policy drops (up to one job's share); returns how many rows went."""
	daily_days = int(get_settings().daily_snapshot_days or 0)
	budget = STATEMENTS_PER_JOB
	deleted = 0
	for company, as_of in droppable_dates(daily_days):
		while budget:
			names = frappe.db.sql_list(
				f"SELECT name FROM {TABLE} WHERE as_of = %s AND company = %s LIMIT %s",
				(as_of, company, ROWS_PER_STATEMENT),
			)
			if not names:
				break
			snapshot = frappe.qb.DocType(SNAPSHOT)
			frappe.qb.from_(snapshot).delete().where(snapshot.name.isin(names)).run()
			deleted += len(names)
			budget -= 1
		if not budget:
			_queue_next()
			break
	return deleted


def droppable_dates(daily_days: int) -> list[tuple[str, object]]:
	"""(company, date) pairs to drop, oldest first; one grouped read of the (as_of, company) index."""
	by_company: dict[str, list] = {}
	for as_of, company in frappe.db.sql(f"SELECT DISTINCT as_of, company FROM {TABLE}"):
		by_company.setdefault(company, []).append(getdate(as_of))
	today = getdate(nowdate())
	return sorted(
		(
			(company, day)
			for company, days in by_company.items()
			for day in dates_to_drop(days, today, daily_days)
		),
		key=lambda pair: pair[1],
	)


def _queue_next():
	frappe.enqueue(
		"crm_extension.customer_value.retention.prune_snapshots",
		queue="long",
		enqueue_after_commit=True,  # not deduplicated by job id: this job would find itself running
	)
