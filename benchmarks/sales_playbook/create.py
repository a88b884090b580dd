"""Creating an Opportunity with the app installed (its playbook attaches: 17 step rows and their To Dos)
against the same insert on a site without the app.

Run by ``benchmarks/run.sh playbook``, which calls, from the bench's ``sites`` folder:
    python -m benchmarks.sales_playbook.create compare <site with the app> <site without it>
(the site without the app is ``CRM_BENCH_BARE_SITE``, default bare.localhost: ERPNext only). One process
creates on both sites in turn, in ``BATCHES`` batches of ``PER_BATCH`` timed creates per site (after
``WARMUP_PER_BATCH`` untimed ones each time it switches site), so both sites see the same machine load: on a
shared 2-core machine the load changes faster than a whole run on one site takes. For one site by hand:
    site_call benchmarks.sales_playbook.create run

One Lead per site is inserted and committed; each timed create is ``frappe.get_doc({...}).insert()`` of an
Opportunity for it plus the commit a request would end with. Everything the creates made (Opportunities, their
step rows and To Dos, Versions, Comments, the Lead) is deleted afterwards, and the Opportunity naming series is
put back where it was when nobody else used it meanwhile.
"""

import json
import statistics
import sys
import time

import frappe

from benchmarks.common import report

CREATES = 150
WARMUP = 15
BATCHES = 20
PER_BATCH = 15
WARMUP_PER_BATCH = 3
TARGET_RATIO = 1.3
PREFIX = "PBBENCH Create"


def run(creates: int = CREATES, warmup: int = WARMUP) -> dict:
	frappe.set_user("Administrator")
	company = frappe.defaults.get_global_default("company") or frappe.get_all("Company", pluck="name")[0]
	series_before = _series_counter()
	lead = frappe.get_doc(
		{"doctype": "Lead", "lead_name": f"{PREFIX} {frappe.generate_hash(length=6)}"}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # the benchmark commits its own data and removes it below
	created: list[str] = []
	try:
		timings = [_timed_create(lead.name, company, number, created) for number in range(warmup + creates)]
		timings = timings[warmup:]
		steps = frappe.db.count("Opportunity Playbook Step", {"parent": created[-1]}) if _has_app() else 0
	finally:
		cleanup(lead.name, created, series_before)
		frappe.db.commit()
	return report(
		{
			"site": frappe.local.site,
			"crm_extension_installed": _has_app(),
			"creates": creates,
			"warmup": warmup,
			"playbook_steps_per_opportunity": steps,
			"median_ms": round(statistics.median(timings) * 1000, 3),
			"p90_ms": round(statistics.quantiles(timings, n=10)[-1] * 1000, 3),
			"mean_ms": round(statistics.fmean(timings) * 1000, 3),
			"samples_ms": [round(timing * 1000, 3) for timing in timings],
		}
	)


def _has_app() -> bool:
	return "crm_extension" in frappe.get_installed_apps()


def _timed_create(lead: str, company: str, number: int, created: list[str]) -> float:
	started = time.perf_counter()
	doc = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": "Lead",
			"party_name": lead,
			"company": company,
			"opportunity_amount": 1000 + number,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	elapsed = time.perf_counter() - started
	created.append(doc.name)
	return elapsed


def _series_counter():
	prefix = frappe.utils.nowdate()[:4]
	return prefix, frappe.db.get_value("Series", f"CRM-OPP-{prefix}-", "current", order_by=None)


def cleanup(lead: str, created: list[str], series_before):
	for start in range(0, len(created), 500):
		chunk = tuple(created[start : start + 500])
		for table in _child_tables():
			frappe.db.sql(
				f"delete from `tab{table}` where parenttype = 'Opportunity' and parent in %s", (chunk,)
			)
		frappe.db.sql(
			"delete from `tabToDo` where reference_type = 'Opportunity' and reference_name in %s", (chunk,)
		)
		for doctype, field in (("Version", "ref_doctype"), ("Comment", "reference_doctype")):
			name_field = "docname" if doctype == "Version" else "reference_name"
			frappe.db.sql(
				f"delete from `tab{doctype}` where {field} = 'Opportunity' and {name_field} in %s", (chunk,)
			)
		if frappe.db.table_exists("CRM Activity"):
			frappe.db.sql(
				"delete from `tabCRM Activity` where reference_doctype = 'Opportunity' and reference_name in %s",
				(chunk,),
			)
		frappe.db.sql("delete from `tabOpportunity` where name in %s", (chunk,))
	frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)
	frappe.db.delete("Version", {"ref_doctype": "Lead", "docname": lead})
	frappe.db.delete("Deleted Document", {"deleted_doctype": "Lead", "deleted_name": lead})
	frappe.db.delete("Comment", {"reference_doctype": "Lead", "reference_name": lead})
	_restore_series(series_before, len(created))


def _child_tables() -> list[str]:
	return [field.options for field in frappe.get_meta("Opportunity").get_table_fields()]


def _restore_series(series_before, used: int):
	"""Put the naming series back when it moved by exactly our creates (nobody else made one meanwhile)."""
	prefix, before = series_before
	key = f"CRM-OPP-{prefix}-"
	now = frappe.db.get_value("Series", key, "current", order_by=None)
	if before is None:
		if now is not None and int(now) == used:
			frappe.db.delete("Series", {"name": key})
	elif now is not None and int(now) == int(before) + used:
		frappe.db.set_value("Series", key, "current", before, update_modified=False)


def compare(
	with_app: str,
	without_app: str,
	batches: int = BATCHES,
	per_batch: int = PER_BATCH,
	warmup: int = WARMUP_PER_BATCH,
) -> dict:
	"""Creates on both sites in alternating batches (module docstring); medians and their ratio."""
	sites = {with_app: {"created": [], "samples": []}, without_app: {"created": [], "samples": []}}
	try:
		for site, state in sites.items():
			with _connected(site):
				state["series"] = _series_counter()
				lead = frappe.get_doc(
					{"doctype": "Lead", "lead_name": f"{PREFIX} {frappe.generate_hash(length=6)}"}
				).insert(ignore_permissions=True)
				frappe.db.commit()  # the benchmark commits its own data and removes it below
				state["lead"] = lead.name
				state["company"] = (
					frappe.defaults.get_global_default("company")
					or frappe.get_all("Company", pluck="name")[0]
				)
				state["installed"] = _has_app()
		for batch in range(batches):
			order = list(sites) if batch % 2 == 0 else list(reversed(sites))
			for site in order:
				state = sites[site]
				with _connected(site):
					for number in range(warmup + per_batch):
						elapsed = _timed_create(state["lead"], state["company"], number, state["created"])
						if number >= warmup:
							state["samples"].append(elapsed)
		with _connected(with_app):
			steps = frappe.db.count("Opportunity Playbook Step", {"parent": sites[with_app]["created"][-1]})
	finally:
		for site, state in sites.items():
			if state.get("lead"):
				with _connected(site):
					cleanup(state["lead"], state["created"], state["series"])
					frappe.db.commit()
	if not sites[with_app]["installed"] or sites[without_app]["installed"]:
		raise ValueError(f"{with_app} must have crm_extension installed and {without_app} must not")
	result = {
		"benchmark": "median time of creating an Opportunity (get_doc({...}).insert() + commit)",
		"batches": batches,
		"creates_per_batch_and_site": per_batch,
		"warmup_creates_per_batch_and_site": warmup,
		"playbook_steps_per_opportunity": steps,
		"target_ratio": TARGET_RATIO,
	}
	for key, site in (("with_app", with_app), ("without_app", without_app)):
		samples = sites[site]["samples"]
		result[key] = {
			"site": site,
			"creates": len(samples),
			"median_ms": _ms(statistics.median(samples)),
			"p90_ms": _ms(statistics.quantiles(samples, n=10)[-1]),
			"mean_ms": _ms(statistics.fmean(samples)),
		}
	result["ratio"] = round(result["with_app"]["median_ms"] / result["without_app"]["median_ms"], 3)
	result["ratio_per_batch"] = [
		round(statistics.median(a) / statistics.median(b), 3)
		for a, b in zip(
			_batches(sites[with_app]["samples"], per_batch),
			_batches(sites[without_app]["samples"], per_batch),
			strict=True,
		)
	]
	return result


class _connected:
	"""``frappe.init`` + ``connect`` for one site, ``destroy`` on the way out (one site at a time)."""

	def __init__(self, site: str):
		self.site = site

	def __enter__(self):
		frappe.init(site=self.site, sites_path=".")
		frappe.connect()
		frappe.set_user("Administrator")

	def __exit__(self, *exc):
		frappe.db.rollback()
		frappe.destroy()


def _batches(samples: list[float], size: int) -> list[list[float]]:
	return [samples[start : start + size] for start in range(0, len(samples), size)]


def _ms(seconds: float) -> float:
	return round(seconds * 1000, 3)


if __name__ == "__main__":
	# python -m benchmarks.sales_playbook.create compare <site with the app> <site without it>  (from sites/)
	print(json.dumps(report(compare(sys.argv[2], sys.argv[3]))))
