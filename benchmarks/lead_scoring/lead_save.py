"""Saving an existing Lead with the app installed against the same save on a site without the app.

Run by ``benchmarks/run.sh leads``: ``run`` on the benchmark site (app installed) and on a site with
ERPNext only (``CRM_BENCH_BARE_SITE``, default bare.localhost), in alternating rounds, then ``combine``
on what they printed. By hand, for one site:
    site_call benchmarks.lead_scoring.lead_save run

One Lead is inserted and committed. Each save loads the Lead, changes its job title (a different value every
time, so there is always a change and a Version) and, timed, runs ``doc.save()`` and the commit a request
would end with: with the app installed that commit is when the Lead's rescore job is queued (Redis). The
Lead's queued rescore job is removed after each save, outside the timer, so every save queues it afresh as
on a site whose workers keep up (and nothing is left in the queue). ``WARMUP`` saves, then ``SAVES`` timed
ones; the Lead, its Contact, Versions and anything else the saves made are deleted afterwards.
"""

import json
import statistics
import sys
import time

import frappe
from frappe.utils.background_jobs import get_job

from benchmarks.common import report

SAVES = 300
WARMUP = 20
TARGET_RATIO = 1.15
LEAD_NAME = "LSBENCH Save Lead"


def run(saves: int = SAVES, warmup: int = WARMUP) -> dict:
	lead = frappe.get_doc(
		{
			"doctype": "Lead",
			"lead_name": f"{LEAD_NAME} {frappe.generate_hash(length=6)}",
			"job_title": "start",
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # the benchmark commits its own data and removes it below
	_forget_rescore_job(lead.name)
	try:
		measured = [_timed_save(lead.name, number) for number in range(warmup + saves)][warmup:]
	finally:
		cleanup(lead.name)
		frappe.db.commit()
	timings = [elapsed for elapsed, _queued in measured]
	queued = sum(was_queued for _elapsed, was_queued in measured)
	return report(
		{
			"site": frappe.local.site,
			"crm_extension_installed": "crm_extension" in frappe.get_installed_apps(),
			"saves": saves,
			"warmup": warmup,
			"saves_that_queued_a_rescore_job": queued,
			"median_ms": round(statistics.median(timings) * 1000, 3),
			"p90_ms": round(statistics.quantiles(timings, n=10)[-1] * 1000, 3),
			"mean_ms": round(statistics.fmean(timings) * 1000, 3),
			"samples_ms": [round(timing * 1000, 3) for timing in timings],
		}
	)


def _timed_save(name: str, number: int) -> tuple[float, bool]:
	doc = frappe.get_doc("Lead", name)
	doc.job_title = f"Buyer {number}"
	started = time.perf_counter()
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	elapsed = time.perf_counter() - started
	return elapsed, _forget_rescore_job(name)


def _forget_rescore_job(lead: str) -> bool:
	"""The app queues ``crm_extension_lead_score::<site>::<lead>``; drop it (no worker runs here)."""
	job = get_job(f"crm_extension_lead_score::{frappe.local.site}::{lead}")
	if job:
		job.delete()
	return bool(job)


def cleanup(name: str):
	contacts = frappe.get_all(
		"Dynamic Link",
		{"parenttype": "Contact", "link_doctype": "Lead", "link_name": name},
		pluck="parent",
	)
	frappe.delete_doc("Lead", name, force=True, ignore_permissions=True)
	for contact in contacts:
		if frappe.db.exists("Contact", contact):
			frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
	frappe.db.delete("Version", {"ref_doctype": "Lead", "docname": name})
	frappe.db.delete(
		"Deleted Document", {"deleted_doctype": ("in", ("Lead", "Contact")), "deleted_name": name}
	)
	for contact in contacts:
		frappe.db.delete("Version", {"ref_doctype": "Contact", "docname": contact})
		frappe.db.delete("Deleted Document", {"deleted_doctype": "Contact", "deleted_name": contact})
	frappe.db.delete("Comment", {"reference_doctype": "Lead", "reference_name": name})
	if frappe.db.table_exists("Lead Score Log"):
		frappe.db.delete("Lead Score Log", {"lead": name})


def combine(rounds: list[dict]) -> dict:
	"""Both sites' medians, per round and pooled over every timed save, and their ratio."""
	with_app = [r for r in rounds if r["crm_extension_installed"]]
	without = [r for r in rounds if not r["crm_extension_installed"]]

	def pooled(results):
		return statistics.median(sample for r in results for sample in r["samples_ms"])

	def median_of_medians(results):
		return statistics.median(r["median_ms"] for r in results)

	result = {
		"benchmark": "median time of saving an existing Lead (doc.save() + commit)",
		"with_app": {"site": with_app[0]["site"], "median_ms_per_round": [r["median_ms"] for r in with_app]},
		"without_app": {"site": without[0]["site"], "median_ms_per_round": [r["median_ms"] for r in without]},
		"saves_per_round": with_app[0]["saves"],
		"warmup_per_round": with_app[0]["warmup"],
		"rounds": len(with_app),
		"target_ratio": TARGET_RATIO,
	}
	for key, results in (("with_app", with_app), ("without_app", without)):
		result[key]["median_ms_pooled"] = round(pooled(results), 3)
		result[key]["median_of_round_medians_ms"] = round(median_of_medians(results), 3)
		result[key]["p90_ms_per_round"] = [r["p90_ms"] for r in results]
	result["ratio_pooled"] = round(pooled(with_app) / pooled(without), 3)
	result["ratio_of_round_medians"] = round(median_of_medians(with_app) / median_of_medians(without), 3)
	result["ratio_per_round"] = [
		round(a["median_ms"] / b["median_ms"], 3) for a, b in zip(with_app, without, strict=False)
	]
	return result


if __name__ == "__main__":
	# python -m benchmarks.lead_scoring.lead_save combine <file with one JSON result per line>
	with open(sys.argv[2]) as lines:
		print(json.dumps(combine([json.loads(line) for line in lines if line.strip()])))
