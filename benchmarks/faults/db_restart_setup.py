"""Server-side steps of benchmarks/faults/db_restart.sh, run in the site copy (faults.localhost)."""

import frappe

from benchmarks.activity_log import http_setup


def prepare() -> dict:
	"""The benchmark gateway (a signed CRM Inbound Source that creates Leads for strangers), without a rate
	limit that 2,000 deliveries in a few minutes would meet; returns its credentials."""
	credentials = http_setup.prepare()
	frappe.db.set_value("CRM Inbound Source", http_setup.BENCH_SOURCE, "rate_limit_per_minute", 1_000_000)
	frappe.db.commit()
	return {**credentials, "lead_source": http_setup.BENCH_LEAD_SOURCE}


def purge_jobs() -> dict:
	"""Take this site's jobs (the refreshes its deliveries queued) off the bench's shared queues before the
	site is removed, so no worker of the bench meets a site that is gone."""
	from crm_extension.tests.utils import purge_site_jobs

	purge_site_jobs()
	return {"purged": True}
