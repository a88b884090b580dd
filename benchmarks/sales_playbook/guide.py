"""``guide()`` of one Opportunity against a plain ``frappe.get_doc`` of the same Opportunity, same run.

Run on a bench site that has the app installed:
    bash benchmarks/run.sh playbook
or by hand: ``site_call benchmarks.sales_playbook.guide run``.

Seeds, with bulk inserts and committed (the benchmark removes them afterwards):

- ``CLOSED`` closed Opportunities (won or lost, personas and closing techniques spread so that some pairs win more
  often than others) of the site's default playbook, each with its step rows, some done, so the win-rate
  learning reads a realistic history;
- one open Opportunity created the normal way (``insert``: the playbook attaches, its To Dos are created) with a
  buyer persona, two competitors, ``ACTIVITIES`` CRM Activities about it and its first two steps completed.

Each timed call starts as a new request would: ``frappe.local``'s caches are emptied first (the Redis cache
stays warm, as on a running site; so do the win rates, which a request reads from Redis), outside the timer
and for both sides alike. The two calls alternate, ``REPEAT`` times each after ``WARMUP`` rounds, so both see
the same machine load. Also measured: the same two calls with ``frappe.local`` kept warm (repeated calls in one
request) and the learning itself (``learn_win_rates`` over every closed deal, what a Redis miss costs).
"""

import random
import statistics
import time

import frappe
from frappe.utils import add_days, now_datetime, today

from benchmarks.common import report
from crm_extension.api import playbook as playbook_api
from crm_extension.sales_playbook import guide as playbook_guide
from crm_extension.sales_playbook.attach import STEP_ROW, step_values
from crm_extension.sales_playbook.store import get_playbook_steps

CLOSED = 400
ACTIVITIES = 30
REPEAT = 300
WARMUP = 20
TARGET_RATIO = 3
PREFIX = "PBBENCH"
PERSONAS = ("Driver", "Amiable", "Expressive", "Analytical")
# (persona, technique) pairs that win more often in the seeded history, so learning has something to find.
STRONG_PAIRS = {("Analytical", "Summary"), ("Driver", "Sharp Angle"), ("Amiable", "Soft Close")}


def run(closed: int = CLOSED) -> dict:
	frappe.set_user("Administrator")
	seeded = seed(int(closed))
	frappe.db.commit()  # the benchmark commits its own data and removes it below
	try:
		result = measure(seeded)
	finally:
		cleanup(seeded)
		frappe.db.commit()
	return report(result)


# --- seeding ---


def seed(closed: int) -> dict:
	random.seed(11)
	playbook = frappe.db.get_value("Sales Playbook", {"is_default": 1, "enabled": 1}, "name")
	if not playbook:
		frappe.throw("The benchmark needs the shipped default Sales Playbook (migrate the site)")
	tag = frappe.generate_hash(length=6)
	lead = frappe.get_doc({"doctype": "Lead", "lead_name": f"{PREFIX} Lead {tag}"}).insert(
		ignore_permissions=True
	)
	seeded = {"tag": tag, "lead": lead.name, "playbook": playbook, "closed": [], "step_rows": 0}
	_seed_closed(seeded, closed)
	seeded["opportunity"] = _seed_open_opportunity(seeded)
	return seeded


def _seed_closed(seeded: dict, count: int):
	steps = get_playbook_steps(seeded["playbook"])
	company = _company()
	currency = frappe.get_cached_value("Company", company, "default_currency")
	now = now_datetime()
	opportunities, rows = [], []
	for number in range(count):
		name = f"{PREFIX}-{seeded['tag']}-{number:05d}"
		persona = random.choice(PERSONAS)
		done = random.randint(2, len(steps))
		technique = next(
			(s["step"].closing_technique for s in reversed(steps[:done]) if s["step"].closing_technique), None
		)
		won = random.random() < (0.6 if (persona, technique) in STRONG_PAIRS else 0.35)
		created = add_days(today(), -random.randint(30, 400))
		opportunities.append(
			{
				"name": name,
				"creation": now,
				"modified": now,
				"owner": "Administrator",
				"modified_by": "Administrator",
				"naming_series": "CRM-OPP-.YYYY.-",
				"opportunity_from": "Lead",
				"party_name": seeded["lead"],
				"title": f"{PREFIX} {number}",
				"status": "Converted" if won else "Lost",
				"company": company,
				"currency": currency,
				"conversion_rate": 1,
				"transaction_date": created,
				"sales_stage": steps[done - 1]["step"].sales_stage,
				"buyer_persona": persona,
				"sales_playbook": seeded["playbook"],
				"playbook_progress": round(100 * done / len(steps)),
				"stage_since": created,
				"opportunity_amount": random.randint(1, 200) * 1000,
			}
		)
		for idx, source in enumerate(steps, start=1):
			is_done = idx <= done
			rows.append(
				{
					"name": f"{name}-{idx:02d}",
					"creation": now,
					"modified": now,
					"owner": "Administrator",
					"modified_by": "Administrator",
					"parent": name,
					"parenttype": "Opportunity",
					"parentfield": "playbook_steps",
					"idx": idx,
					**step_values(source),
					"status": "Done" if is_done else "Open",
					"due_date": add_days(created, idx * 2),
					"done_on": add_days(created, idx * 2) if is_done else None,
					"done_by": "Administrator" if is_done else None,
				}
			)
	_bulk_insert("Opportunity", opportunities)
	_bulk_insert(STEP_ROW, rows)
	seeded["closed"] = [row["name"] for row in opportunities]
	seeded["step_rows"] = len(rows)


def _company() -> str:
	return frappe.defaults.get_global_default("company") or frappe.get_all("Company", pluck="name")[0]


def _bulk_insert(doctype: str, rows: list[dict]):
	fields = list(rows[0])
	for start in range(0, len(rows), 1000):
		chunk = rows[start : start + 1000]
		frappe.db.bulk_insert(doctype, fields, [[row[field] for field in fields] for row in chunk])


def _seed_open_opportunity(seeded: dict) -> str:
	seeded["competitors"] = [
		frappe.get_doc(
			{"doctype": "Competitor", "competitor_name": f"{PREFIX} Rival {seeded['tag']} {number}"}
		)
		.insert(ignore_permissions=True)
		.name
		for number in (1, 2)
	]
	doc = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": "Lead",
			"party_name": seeded["lead"],
			"company": _company(),
			"buyer_persona": "Analytical",
			"opportunity_amount": 50_000,
			"competitors": [{"competitor": name} for name in seeded["competitors"]],
		}
	).insert(ignore_permissions=True)
	now = now_datetime()
	activities = [
		{
			"name": f"{PREFIX}-act-{seeded['tag']}-{number:03d}",
			"creation": now,
			"modified": now,
			"owner": "Administrator",
			"modified_by": "Administrator",
			"channel": random.choice(["Phone", "Email", "WhatsApp"]),
			"direction": random.choice(["Inbound", "Outbound"]),
			"activity_at": frappe.utils.add_to_date(now, hours=-number * 7),
			"source": "Import",
			"reference_doctype": "Opportunity",
			"reference_name": doc.name,
			"subject": f"Benchmark activity {number}",
		}
		for number in range(ACTIVITIES)
	]
	_bulk_insert("CRM Activity", activities)
	for row in doc.playbook_steps[:2]:
		playbook_guide.complete(doc.name, row.name, notes="benchmark")
	return doc.name


# --- measuring ---


def measure(seeded: dict) -> dict:
	name = seeded["opportunity"]
	playbook_guide.clear_win_rates()
	started = time.perf_counter()
	deals = playbook_guide.closed_deals()
	playbook_guide.learn_win_rates(deals)
	learning = time.perf_counter() - started

	def guide():
		return playbook_api.guide(name)

	def get_doc():
		return frappe.get_doc("Opportunity", name)

	answer = guide()
	fresh = _alternate(guide, get_doc, fresh_request=True)
	warm = _alternate(guide, get_doc, fresh_request=False)
	fresh_guide, fresh_get_doc = (statistics.median(t) for t in fresh)
	warm_guide, warm_get_doc = (statistics.median(t) for t in warm)
	return {
		"benchmark": "guide(opportunity) vs frappe.get_doc('Opportunity', name), same Opportunity, same run",
		"site": frappe.local.site,
		"user": frappe.session.user,
		"closed_opportunities": len(seeded["closed"]),
		"closed_deals_learned_from": len(deals),
		"closed_step_rows": seeded["step_rows"],
		"steps_on_the_opportunity": len(answer["steps"]),
		"activities_on_the_opportunity": ACTIVITIES,
		"repeat": REPEAT,
		"warmup": WARMUP,
		"guide_median_ms": _ms(fresh_guide),
		"get_doc_median_ms": _ms(fresh_get_doc),
		"ratio": round(fresh_guide / fresh_get_doc, 2),
		"target_ratio": TARGET_RATIO,
		"guide_p90_ms": _ms(statistics.quantiles(fresh[0], n=10)[-1]),
		"get_doc_p90_ms": _ms(statistics.quantiles(fresh[1], n=10)[-1]),
		"warm_local_cache": {
			"guide_median_ms": _ms(warm_guide),
			"get_doc_median_ms": _ms(warm_get_doc),
			"ratio": round(warm_guide / warm_get_doc, 2),
		},
		"learning_win_rates_ms": _ms(learning),
		"recommended_technique": (answer.get("recommended_technique") or {}).get("name"),
	}


def _alternate(first, second, fresh_request: bool, repeat: int = REPEAT, warmup: int = WARMUP):
	timings = ([], [])
	for number in range(warmup + repeat):
		for function, bucket in ((first, timings[0]), (second, timings[1])):
			if fresh_request:
				_new_request()
			started = time.perf_counter()
			function()
			elapsed = time.perf_counter() - started
			if number >= warmup:
				bucket.append(elapsed)
	return timings


def _new_request():
	"""What ``frappe.init`` gives each request: empty request-local caches (Redis stays as it is)."""
	frappe.local.cache = {}
	frappe.local.document_cache = {}
	frappe.local.crm_playbook_win_rates = None
	frappe.local.crm_playbook_stages = None


def _ms(seconds: float) -> float:
	return round(seconds * 1000, 3)


# --- cleanup ---


def cleanup(seeded: dict):
	closed = seeded["closed"]
	for start in range(0, len(closed), 500):
		chunk = tuple(closed[start : start + 500])
		frappe.db.sql(f"delete from `tab{STEP_ROW}` where parent in %s", (chunk,))
		frappe.db.sql("delete from `tabOpportunity` where name in %s", (chunk,))
	name = seeded.get("opportunity")
	if name:
		frappe.db.delete("CRM Activity", {"reference_doctype": "Opportunity", "reference_name": name})
		frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": name})
		frappe.delete_doc("Opportunity", name, force=True, ignore_permissions=True)
		_forget("Opportunity", name)
	frappe.delete_doc("Lead", seeded["lead"], force=True, ignore_permissions=True)
	_forget("Lead", seeded["lead"])
	for competitor in seeded.get("competitors", []):
		frappe.delete_doc("Competitor", competitor, force=True, ignore_permissions=True)
		_forget("Competitor", competitor)
	playbook_guide.clear_win_rates()


def _forget(doctype: str, name: str):
	frappe.db.delete("Version", {"ref_doctype": doctype, "docname": name})
	frappe.db.delete("Deleted Document", {"deleted_doctype": doctype, "deleted_name": name})
	frappe.db.delete("Comment", {"reference_doctype": doctype, "reference_name": name})
