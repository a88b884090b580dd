"""Timeline of a party with 10,000 feed items across every source, against the host's own form load of the
same Customer (`frappe.desk.form.load.getdoc`, which builds the host's timeline too) and, as the floor, one
primary-key fetch. The timeline and the form load run as a Sales User, as a salesperson opens them.

Run on a bench site that has the app installed:
    bash benchmarks/run.sh timeline
Seeds a Customer (with its Lead, Contact and Opportunity) and 10,000 items spread over CRM Activity,
Communication, Call Log, Event, ToDo, Comment and Sales Invoice-free sources, measures, then deletes them.
"""

import random

import frappe
from frappe.utils import add_to_date, now_datetime

from benchmarks.common import median_seconds, report
from crm_extension.activity_log.feed import get_feed
from crm_extension.api.activity import timeline

SALES_USER = "timeline-benchmark@example.com"

ITEMS = 10_000
SHARES = {
	"CRM Activity": 0.4,
	"Communication": 0.25,
	"Call Log": 0.1,
	"Event": 0.05,
	"ToDo": 0.1,
	"Comment": 0.1,
}
REPEAT = 300


def run(items: int = ITEMS):
	party = seed(int(items))
	frappe.db.commit()  # the benchmark commits its own data and removes it below
	try:
		result = measure(party)
	finally:
		cleanup(party)
		frappe.db.commit()
	return report(result)


def seed(items: int) -> dict:
	random.seed(7)
	lead = frappe.get_doc({"doctype": "Lead", "lead_name": "Benchmark Lead"}).insert(ignore_permissions=True)
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": f"Benchmark Customer {frappe.generate_hash(length=6)}",
			"lead_name": lead.name,
		}
	).insert(ignore_permissions=True)
	party = {"lead": lead.name, "customer": customer.name, "names": {}}
	now = now_datetime()
	for doctype, share in SHARES.items():
		count = int(items * share)
		rows = [
			_row(doctype, i, lead.name, customer.name, add_to_date(now, minutes=-random.randint(0, 525_600)))
			for i in range(count)
		]
		party["names"][doctype] = [row["name"] for row in rows]
		_insert(doctype, rows, customer.name)
	return party


def _row(doctype: str, i: int, lead: str, customer: str, at) -> dict:
	name = f"bench-{doctype[:3].lower()}-{i}-{frappe.generate_hash(length=6)}"
	common = {
		"name": name,
		"creation": at,
		"modified": at,
		"owner": "Administrator",
		"modified_by": "Administrator",
	}
	reference = ("Lead", lead) if i % 2 else ("Customer", customer)
	if doctype == "CRM Activity":
		return {
			**common,
			"channel": random.choice(["WhatsApp", "Phone", "SMS", "Email"]),
			"channel_type": "Messaging",
			"direction": random.choice(["Inbound", "Outbound"]),
			"activity_at": at,
			"source": "Import",
			"reference_doctype": reference[0],
			"reference_name": reference[1],
			"subject": f"Activity {i}",
		}
	if doctype == "Communication":
		return {
			**common,
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": random.choice(["Sent", "Received"]),
			"communication_date": at,
			"subject": f"Email {i}",
			"reference_doctype": reference[0],
			"reference_name": reference[1],
		}
	if doctype == "Call Log":
		return {
			**common,
			"id": name,
			"type": "Incoming",
			"status": "Completed",
			"start_time": at,
			"customer": customer,
		}
	if doctype == "Event":
		return {
			**common,
			"subject": f"Meeting {i}",
			"starts_on": at,
			"event_type": "Public",
			"status": "Open",
		}
	if doctype == "ToDo":
		return {
			**common,
			"description": f"Task {i}",
			"status": "Open",
			"allocated_to": "Administrator",
			"reference_type": reference[0],
			"reference_name": reference[1],
		}
	return {
		**common,
		"comment_type": "Comment",
		"content": f"Note {i}",
		"reference_doctype": reference[0],
		"reference_name": reference[1],
	}


def _insert(doctype: str, rows: list[dict], customer: str):
	fields = list(rows[0])
	frappe.db.bulk_insert(doctype, fields, [[row[field] for field in fields] for row in rows])
	child = {
		"Call Log": ("Dynamic Link", "links", ["link_doctype", "link_name"]),
		"Event": ("Event Participants", "event_participants", ["reference_doctype", "reference_docname"]),
	}.get(doctype)
	if child:
		table, parentfield, link_fields = child
		links = [
			[f"{row['name']}-l", row["name"], parentfield, doctype, 1, "Customer", customer] for row in rows
		]
		frappe.db.bulk_insert(
			table, ["name", "parent", "parentfield", "parenttype", "idx", *link_fields], links
		)


def measure(party: dict) -> dict:
	customer = party["customer"]
	some_activity = party["names"]["CRM Activity"][len(party["names"]["CRM Activity"]) // 2]
	primary_key = median_seconds(
		lambda: frappe.db.sql("select * from `tabCRM Activity` where name = %s", some_activity), REPEAT
	)
	frappe.set_user(sales_user())
	try:
		first_page = median_seconds(lambda: timeline("Customer", customer), REPEAT)
		form_load = median_seconds(lambda: load_form("Customer", customer), REPEAT)
		deep_page = median_seconds(lambda: timeline("Customer", customer, start=5000), 30)
		plan = explain(customer)
	finally:
		frappe.set_user("Administrator")
	total = sum(len(names) for names in party["names"].values())
	return {
		"feed_items": total,
		"as_user": SALES_USER,
		"first_page_median_ms": round(first_page * 1000, 3),
		"form_load_getdoc_median_ms": round(form_load * 1000, 3),
		"ratio_to_getdoc": round(first_page / form_load, 3),
		"target_ratio_to_getdoc": 1.0,
		"primary_key_fetch_median_ms": round(primary_key * 1000, 3),
		"ratio_to_primary_key": round(first_page / primary_key, 2),
		"page_at_offset_5000_median_ms": round(deep_page * 1000, 3),
		"explain": plan,
	}


def load_form(doctype: str, name: str):
	"""The desk's form load, as /api/method/frappe.desk.form.load.getdoc runs it."""
	from frappe.desk.form.load import getdoc

	frappe.local.response = frappe._dict(docs=[])
	getdoc(doctype, name)


def sales_user() -> str:
	if not frappe.db.exists("User", SALES_USER):
		user = frappe.get_doc(
			{"doctype": "User", "email": SALES_USER, "first_name": "Timeline", "send_welcome_email": 0}
		).insert(ignore_permissions=True)
		user.add_roles("Sales User")
	return SALES_USER


def explain(customer: str) -> list[dict]:
	"""EXPLAIN of the first page's UNION query, captured from the feed code itself."""
	captured = {}
	original_sql = frappe.db.sql

	def capture(query, values=(), *args, **kwargs):
		if " union " in str(query):
			captured["query"], captured["values"] = query, values
		return original_sql(query, values, *args, **kwargs)

	frappe.db.sql = capture
	try:
		get_feed("Customer", customer, 0, 20)
	finally:
		frappe.db.sql = original_sql
	rows = frappe.db.sql("explain " + captured["query"], captured["values"], as_dict=True)
	return [
		{key: row.get(key) for key in ("id", "select_type", "table", "type", "key", "rows", "Extra")}
		for row in rows
	]


def cleanup(party: dict):
	for doctype, names in party["names"].items():
		for start in range(0, len(names), 1000):
			chunk = tuple(names[start : start + 1000])
			frappe.db.sql(f"delete from `tab{doctype}` where name in %s", (chunk,))
	frappe.db.sql(
		"delete from `tabDynamic Link` where parenttype = 'Call Log' and parent like 'bench-cal-%%'"
	)
	frappe.db.sql("delete from `tabEvent Participants` where parent like 'bench-eve-%%'")
	frappe.delete_doc("Customer", party["customer"], force=True, ignore_permissions=True)
	frappe.delete_doc("Lead", party["lead"], force=True, ignore_permissions=True)
	frappe.delete_doc("User", SALES_USER, force=True, ignore_permissions=True)
