"""Server-side preparation and checks for the HTTP benchmarks (called by benchmarks/run.sh)."""

import frappe

BENCH_USER = "crm-bench-user@crm-extension.test"
BENCH_SOURCE = "Benchmark Gateway"
BENCH_LEAD_SOURCE = "CRM Benchmark"


def prepare():
	"""A Sales User with API keys, a Lead to log against and a signed inbound source; returns them for benchmarks/run.sh."""
	if not frappe.db.exists("User", BENCH_USER):
		user = frappe.get_doc(
			{"doctype": "User", "email": BENCH_USER, "first_name": "Bench", "send_welcome_email": 0}
		)
		user.append_roles("Sales User")
		user.insert(ignore_permissions=True)
	user = frappe.get_doc("User", BENCH_USER)
	api_secret = frappe.generate_hash(length=15)
	user.api_key = user.api_key or frappe.generate_hash(length=15)
	user.api_secret = api_secret
	user.save(ignore_permissions=True)
	lead = frappe.get_doc({"doctype": "Lead", "lead_name": "HTTP Benchmark Lead"}).insert(
		ignore_permissions=True
	)
	if not frappe.db.exists("Lead Source", BENCH_LEAD_SOURCE):
		frappe.get_doc({"doctype": "Lead Source", "source_name": BENCH_LEAD_SOURCE}).insert(
			ignore_permissions=True
		)
	secret = frappe.generate_hash(length=24)
	if frappe.db.exists("CRM Inbound Source", BENCH_SOURCE):
		frappe.delete_doc("CRM Inbound Source", BENCH_SOURCE, force=True, ignore_permissions=True)
	frappe.get_doc(
		{
			"doctype": "CRM Inbound Source",
			"source_name": BENCH_SOURCE,
			"channel": "SMS",
			"secret": secret,
			"create_lead_for_unknown": 1,
			"phone_region": "IR",
			"max_age_seconds": 600,
			"lead_source": BENCH_LEAD_SOURCE,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	return {
		"site": frappe.local.site,
		"api_key": user.api_key,
		"api_secret": api_secret,
		"lead": lead.name,
		"source": BENCH_SOURCE,
		"secret": secret,
	}


def webhook_outcome():
	"""Activities and Leads the benchmark gateway created (one Lead per sender), InnoDB's deadlock counter."""
	stored = frappe.db.count("CRM Activity", {"inbound_source": BENCH_SOURCE})
	distinct = frappe.db.sql(
		"select count(distinct external_id) from `tabCRM Activity` where inbound_source = %s", BENCH_SOURCE
	)[0][0]
	deadlocks = frappe.db.sql("show global status like 'Innodb_deadlocks'")
	return {
		"leads_created": frappe.db.count("Lead", {"source": BENCH_LEAD_SOURCE}),
		"stored": stored,
		"distinct_external_ids": distinct,
		"innodb_deadlocks": int(deadlocks[0][1]) if deadlocks else None,
	}


def cleanup():
	"""Remove what the HTTP benchmarks wrote: activities, the Leads they created and their Contacts."""
	leads = frappe.get_all("Lead", {"source": BENCH_LEAD_SOURCE}, pluck="name")
	leads += frappe.get_all("Lead", {"lead_name": "HTTP Benchmark Lead"}, pluck="name")
	contacts = frappe.get_all(
		"Dynamic Link",
		{"parenttype": "Contact", "link_doctype": "Lead", "link_name": ("in", leads or [""])},
		pluck="parent",
	)
	frappe.db.delete("CRM Activity", {"inbound_source": BENCH_SOURCE})
	for doctype, names in (("Lead", leads), ("Contact", contacts)):
		if names:
			frappe.db.delete("CRM Activity", {"reference_doctype": doctype, "reference_name": ("in", names)})
			frappe.db.delete("ToDo", {"reference_type": doctype, "reference_name": ("in", names)})
	for contact in contacts:
		frappe.delete_doc("Contact", contact, force=True, ignore_permissions=True)
	for lead in leads:
		frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)
	frappe.db.delete("CRM Inbound Source", BENCH_SOURCE)
	frappe.db.commit()
