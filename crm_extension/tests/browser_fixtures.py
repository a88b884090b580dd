"""Data for the browser check (scripts/browser_check.sh), created and removed through `bench execute`."""

import json
from pathlib import Path

import frappe

from crm_extension.lead_scoring.context import SETTINGS as LEAD_SCORING_SETTINGS
from crm_extension.lead_scoring.context import setting
from crm_extension.lead_scoring.scoring import score_leads

BROWSER_USER = "crm-browser-check@crm-extension.test"
SALES_USER = "crm-browser-sales@crm-extension.test"  # the Sales User role alone
SALES_MANAGER = "crm-browser-manager@crm-extension.test"  # the Sales Manager role (and Sales User)
PERSIAN_USER = "crm-browser-fa@crm-extension.test"  # the check's roles, in Persian (right to left)
MANAGER_ROLES = ("Sales Manager", "Sales User", "CRM Extension Manager", "System Manager")
USERS = {
	BROWSER_USER: ("Browser", MANAGER_ROLES, None),
	SALES_USER: ("Sally Sales", ("Sales User",), None),
	SALES_MANAGER: ("Max Manager", ("Sales Manager", "Sales User"), None),
	PERSIAN_USER: ("Parisa", MANAGER_ROLES, "fa"),
}


def prepare():
	"""Desk users with a fresh password and a Lead with a varied history; prints what the check needs."""
	cleanup()  # what a failed or killed run left
	password = frappe.generate_hash(length=16)
	for email, (first_name, roles, language) in USERS.items():
		make_user(email, first_name, roles, language, password)
	lead = frappe.get_doc(
		{"doctype": "Lead", "lead_name": "Browser Check Lead", "email_id": "browser-check@example.com"}
	).insert(ignore_permissions=True)
	make_scoring_rules()
	train_lead_model()
	customer = make_customer_value_data()
	make_timeline(lead.name)
	score_leads([lead.name])
	opportunity = make_playbook_opportunity(lead.name)
	journeys = make_journey_data(customer)
	frappe.db.commit()
	print(
		json.dumps(
			{
				"site": frappe.local.site,
				"user": BROWSER_USER,
				"sales_user": SALES_USER,
				"sales_manager": SALES_MANAGER,
				"fa_user": PERSIAN_USER,
				"password": password,
				"lead": lead.name,
				"customer": customer,
				"opportunity": opportunity,
				**journeys,
			}
		)
	)


def make_user(email: str, first_name: str, roles: tuple[str, ...], language: str | None, password: str):
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": first_name, "send_welcome_email": 0}
		)
		user.append_roles(*roles)
		user.insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	user.language = language
	user.new_password = password
	user.save(ignore_permissions=True)


LONG_DETAILS = (
	"Went through the whole proposal line by line: they want the annual plan with two extra seats, a "
	"discount for paying upfront, and onboarding in the first week of next month. Their finance team "
	"needs the quotation in rials and in euros, and procurement asks for our company registration "
	"papers. Next step: send the revised quotation by Thursday and call the CFO on Saturday morning."
)
# (channel, direction, outcome, subject, details, hours ago): one item of every channel type, long text and
# Persian text, spread over today, yesterday, last week and last year.
TIMELINE_ACTIVITIES = (
	("WhatsApp", "Inbound", "Replied", "Asked for a price today", "Can you send the price list?", 1),
	("Phone", "Outbound", "Completed", "Follow-up call", LONG_DETAILS, 3),
	("WhatsApp", "Outbound", None, "Sent the catalogue", None, 26),
	("Email", "Inbound", "Interested", "Re: proposal for the annual plan", None, 30),
	("Telegram", "Inbound", None, "درخواست پیش‌فاکتور", "سلام، لطفاً پیش‌فاکتور را برای دو کاربر بفرستید.", 50),
	("Meeting", "Outbound", "Meeting Held", "Demo at their office", "Showed the mobile app", 80),
	("Site Visit", "Outbound", "Completed", "Visited the Tehran branch", None, 150),
	("Website", "Inbound", None, "Filled in the contact form", "Browser check from the phone", 200),
	("Social Media", "Inbound", None, "Commented on our post", None, 400),
	("SMS", "Outbound", "No Response", "Reminder of the demo", None, 700),
	("Letter", "Outbound", None, "Posted the signed contract", None, 24 * 400),
)


def make_timeline(lead: str):
	"""The Lead's timeline: an activity of every channel type, a task, a note, a quotation and an activity
	logged against that quotation."""
	from frappe.utils import add_to_date, now_datetime

	def activity(reference_doctype, reference_name, channel, direction, outcome, subject, details, hours):
		frappe.get_doc(
			{
				"doctype": "CRM Activity",
				"channel": channel,
				"direction": direction,
				"outcome": outcome,
				"subject": subject,
				"details": details,
				"activity_at": add_to_date(now_datetime(), hours=-hours),
				"reference_doctype": reference_doctype,
				"reference_name": reference_name,
			}
		).insert(ignore_permissions=True)

	for row in TIMELINE_ACTIVITIES:
		activity("Lead", lead, *row)
	frappe.get_doc(
		{
			"doctype": "ToDo",
			"description": "Call back about the upfront discount",
			"reference_type": "Lead",
			"reference_name": lead,
			"allocated_to": BROWSER_USER,
		}
	).insert(ignore_permissions=True)
	frappe.get_doc(
		{
			"doctype": "Comment",
			"comment_type": "Comment",
			"reference_doctype": "Lead",
			"reference_name": lead,
			"content": "<p>Prefers calls after 10am; the CFO decides.</p>",
			"comment_email": BROWSER_USER,
		}
	).insert(ignore_permissions=True)
	quotation = make_quotation(lead)
	activity("Quotation", quotation, "Email", "Outbound", None, "Sent the quotation", None, 5)
	# What the queued job would do after these activities: the Log Activity dialog starts from it.
	from crm_extension.activity_log.refresh import refresh_preferred_channel

	refresh_preferred_channel("Lead", lead)


def make_quotation(lead: str) -> str:
	from crm_extension.tests.factories import default_company

	return (
		frappe.get_doc(
			{
				"doctype": "Quotation",
				"quotation_to": "Lead",
				"party_name": lead,
				"company": default_company(),
				"items": [{"item_code": VALUE_ITEM, "qty": 2, "rate": 120}],
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


SCORING_RULES = (
	{
		"label": "Browser check: has an email",
		"rule_type": "Fit",
		"field": "email_id",
		"operator": "is set",
		"points": 30,
	},
	{
		"label": "Browser check: wrote back",
		"rule_type": "Engagement",
		"direction": "Inbound",
		# small enough that the journeys' four logged replies keep the journey lead's score under 100
		"points": 10,
		"half_life_days": 14,
	},
)


def make_scoring_rules():
	for rule in SCORING_RULES:
		if not frappe.db.exists("Lead Scoring Rule", rule["label"]):
			frappe.get_doc({"doctype": "Lead Scoring Rule", **rule}).insert(ignore_permissions=True)


# Lead scoring model: decided Leads from the model-quality benchmark's generator (a known conversion process,
# engagement included), written as rows with a marking name, and a real `training.train()` on them, so the
# settings page shows the holdout's calibration plot and lift chart. The settings' rows are saved first and
# put back by cleanup, so the site's own model (or the lack of one) comes back.
TRAINING_PREFIX = "BROWSER-CHECK-LS-"
TRAINING_LEADS = 800  # 275 converted and 525 lost, under 2 s: a holdout of 200 for the charts
TRAINING_SEED = 2024
SETTINGS_SNAPSHOT = "crm_browser_check_lead_scoring_settings.json"
LEAD_COLUMNS = (
	"name",
	"lead_name",
	"title",
	"status",
	"source",
	"industry",
	"no_of_employees",
	"territory",
	"country",
	"type",
	"request_type",
	"market_segment",
	"annual_revenue",
	"email_id",
	"mobile_no",
	"website",
	"company_name",
	"creation",
	"modified",
	"owner",
	"modified_by",
)
ACTIVITY_COLUMNS = (
	"name",
	"channel",
	"channel_type",
	"direction",
	"outcome",
	"activity_at",
	"source",
	"reference_doctype",
	"reference_name",
	"creation",
	"modified",
	"owner",
	"modified_by",
)


def train_lead_model():
	from benchmarks.lead_scoring.generator import generate_leads
	from crm_extension.lead_scoring.training import train

	cleanup_training_leads()  # a killed run's rows
	snapshot = _settings_snapshot_path()
	if not snapshot.exists():  # else a killed run saved the settings as they were before it
		rows = frappe.db.sql(
			"select field, value from `tabSingles` where doctype = %s", LEAD_SCORING_SETTINGS
		)
		snapshot.write_text(json.dumps([list(row) for row in rows]))
	generated = generate_leads(TRAINING_LEADS, TRAINING_SEED)
	_insert_training_leads(generated)
	per_class = min(sum(lead.converted for lead in generated), sum(not lead.converted for lead in generated))
	if setting(frappe.get_single(LEAD_SCORING_SETTINGS), "min_leads_per_class") > per_class:
		frappe.db.set_single_value(LEAD_SCORING_SETTINGS, "min_leads_per_class", per_class)
	summary = train()
	if summary["status"] != "Trained":
		raise RuntimeError(f"Browser check: no lead scoring model was trained: {summary}")


def _insert_training_leads(generated):
	"""The generated Leads and their feed as rows (multi-row INSERTs, no documents): a second at most."""
	channel_types = dict(frappe.get_all("CRM Channel", fields=["name", "channel_type"], as_list=True))
	stamps = {"owner": "Administrator", "modified_by": "Administrator"}
	leads, activities = [], []
	for number, lead in enumerate(generated):
		name, title = f"{TRAINING_PREFIX}L{number:05d}", f"Browser Check Training Lead {number}"
		# `modified` is the outcome time: ERPNext keeps no status-change time, training reads it instead.
		row = {**lead.lead, **stamps, "name": name, "lead_name": title, "title": title}
		row.update(status=lead.facts.status, creation=lead.created, modified=lead.decided_at)
		leads.append([row.get(column) for column in LEAD_COLUMNS])
		for item in lead.feed:
			activity = {**item, **stamps, "name": f"{TRAINING_PREFIX}A{len(activities):06d}"}
			activity.update(channel_type=channel_types.get(item["channel"]), activity_at=item["at"])
			activity.update(source="Import", reference_doctype="Lead", reference_name=name)
			activity.update(creation=item["at"], modified=item["at"])
			activities.append([activity[column] for column in ACTIVITY_COLUMNS])
	frappe.db.bulk_insert("Lead", LEAD_COLUMNS, leads)
	frappe.db.bulk_insert("CRM Activity", ACTIVITY_COLUMNS, activities)


def cleanup_lead_model():
	"""The training Leads and their activities go; the settings' rows are put back as prepare found them."""
	cleanup_training_leads()
	snapshot = _settings_snapshot_path()
	if snapshot.exists():
		frappe.db.delete("Singles", {"doctype": LEAD_SCORING_SETTINGS})
		for field, value in json.loads(snapshot.read_text()):
			frappe.db.sql(
				"insert into `tabSingles` (doctype, field, value) values (%s, %s, %s)",
				(LEAD_SCORING_SETTINGS, field, value),
			)
		frappe.clear_document_cache(LEAD_SCORING_SETTINGS, LEAD_SCORING_SETTINGS)
		frappe.db.commit()  # the saved rows are dropped only once they are back
		snapshot.unlink()


def cleanup_training_leads():
	like = TRAINING_PREFIX + "%"
	frappe.db.delete("CRM Activity", {"reference_doctype": "Lead", "reference_name": ("like", like)})
	frappe.db.delete("Lead Score Log", {"lead": ("like", like)})
	frappe.db.delete("Lead", {"name": ("like", like)})


def _settings_snapshot_path() -> Path:
	return Path(frappe.get_site_path("private", SETTINGS_SNAPSHOT))


# Customer value: a regular buyer (the form's chart) and a lapsed one (the at-risk report), days ago.
VALUE_ITEM = "Browser Check Service"
VALUE_CUSTOMERS = {
	"Browser Check Customer": (10, 40, 100, 160, 220),
	"Browser Check Lapsed Customer": (250, 300, 340),
}
VALUE_FISCAL_YEAR = "Browser Check Fiscal Year"
LAST_RUN_FIELDS = ("last_recompute_on", "last_as_of", "customers_scored", "model_status", "model_parameters")


def make_customer_value_data() -> str:
	"""Submitted invoices of a service item for two customers and a recompute of just them. Returns the
	regular buyer's name."""
	from crm_extension.customer_value.recompute import recompute
	from crm_extension.customer_value.tests.factories import days_ago, make_invoice
	from crm_extension.tests.factories import make_customer

	if not frappe.db.exists("Item", VALUE_ITEM):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": VALUE_ITEM,
				"item_group": frappe.db.get_value("Item Group", {"is_group": 0}) or "All Item Groups",
				"stock_uom": "Nos",
				"is_stock_item": 0,
			}
		).insert(ignore_permissions=True)
	add_previous_fiscal_year()
	names = []
	for customer_name, days in VALUE_CUSTOMERS.items():
		customer = make_customer(customer_name=customer_name).name
		for n, days_back in enumerate(days):
			make_invoice(customer, [(VALUE_ITEM, 2 + n, 120)], posting_date=days_ago(days_back))
		names.append(customer)
	# The run is of two customers only: the last run shown on the settings stays what it was.
	last_run = frappe.db.get_singles_dict("Customer Value Settings")
	recompute(customers=names)
	frappe.db.set_single_value(
		"Customer Value Settings",
		{
			field: last_run.get(field)
			for field in (*LAST_RUN_FIELDS, "modified")
			if field != "modified" or field in last_run
		},
		update_modified=False,
	)
	return names[0]


def add_previous_fiscal_year():
	"""Test sites (erpnext's before_tests) have only the current fiscal year; the lapsed customer bought up
	to 340 days ago, so the year before it is added when missing (and removed by cleanup)."""
	from erpnext.accounts.utils import FiscalYearError, get_fiscal_year
	from frappe.utils import add_days, add_years, nowdate

	from crm_extension.tests.factories import default_company

	company = default_company()
	current_start = get_fiscal_year(nowdate(), company=company)[1]
	try:
		get_fiscal_year(add_days(current_start, -1), company=company)
	except FiscalYearError:
		frappe.get_doc(
			{
				"doctype": "Fiscal Year",
				"year": VALUE_FISCAL_YEAR,
				"year_start_date": add_years(current_start, -1),
				"year_end_date": add_days(current_start, -1),
			}
		).insert(ignore_permissions=True)


def cleanup_customer_value():
	"""Deletes the rows make_customer_value_data wrote (ledgers, snapshots, versions), not documents
	through delete_doc, which would leave Deleted Document records behind."""
	customers = frappe.get_all("Customer", {"customer_name": ("in", list(VALUE_CUSTOMERS))}, pluck="name")
	invoices = frappe.get_all("Sales Invoice", {"customer": ("in", customers or [""])}, pluck="name")
	for doctype in ("GL Entry", "Payment Ledger Entry"):
		frappe.db.delete(doctype, {"voucher_type": "Sales Invoice", "voucher_no": ("in", invoices or [""])})
	frappe.db.delete("Customer Value Snapshot", {"customer": ("in", customers or [""])})
	_delete_documents("Sales Invoice", invoices)
	_delete_documents("Customer", customers)
	_delete_documents("Item", frappe.get_all("Item", {"name": VALUE_ITEM}, pluck="name"))
	_delete_documents("Fiscal Year", frappe.get_all("Fiscal Year", {"name": VALUE_FISCAL_YEAR}, pluck="name"))
	frappe.cache.delete_value("fiscal_years")


def _delete_documents(doctype: str, names: list[str]):
	if not names:
		return
	for table in frappe.get_meta(doctype).get_table_fields():
		frappe.db.delete(table.options, {"parenttype": doctype, "parent": ("in", names)})
	frappe.db.delete("Version", {"ref_doctype": doctype, "docname": ("in", names)})
	frappe.db.delete(doctype, {"name": ("in", names)})


# Sales playbook: an Opportunity for the browser lead following the default playbook (its first step done, the
# next one overdue, 30 days in its stage: the form shows the stall, the workspace counts it) and three closed ones
# (won, won, lost) so the Playbook Effectiveness chart has bars.
def make_playbook_opportunity(lead: str) -> str:
	from frappe.utils import add_days, today

	from crm_extension.sales_playbook.guide import clear_win_rates, complete
	from crm_extension.tests.factories import make_opportunity

	playbook = frappe.db.get_value("Sales Playbook", {"is_default": 1, "enabled": 1}, "name")

	def opportunity(persona: str):
		# base_opportunity_amount too: ERPNext computes it only in the form, which would open "Not Saved".
		return make_opportunity(
			"Lead",
			lead,
			buyer_persona=persona,
			opportunity_amount=12_000,
			base_opportunity_amount=12_000,
			sales_playbook=playbook,
		)

	for persona, status, done in (
		("Driver", "Converted", 3),
		("Amiable", "Converted", 2),
		("Expressive", "Lost", 1),
	):
		closed = opportunity(persona)
		for row in closed.playbook_steps[:done]:
			complete(closed.name, row.name)
		frappe.db.set_value("Opportunity", closed.name, "status", status)
	main = opportunity("Analytical")
	complete(main.name, main.playbook_steps[0].name, notes="Browser check")
	frappe.db.set_value(
		"Opportunity Playbook Step", main.playbook_steps[1].name, "due_date", add_days(today(), -2)
	)
	frappe.db.set_value("Opportunity", main.name, "stage_since", add_days(today(), -30))
	clear_win_rates()
	age_playbook_history(lead)
	return main.name


def age_playbook_history(lead: str, days: int = 12):
	"""The playbook's steps were done and its tasks made weeks ago, not in the minute before the check: the
	Lead's timeline opens on its own varied history (make_timeline), the playbook's further down."""
	from frappe.utils import add_days, now_datetime

	then = add_days(now_datetime(), -days)
	opportunities = frappe.get_all(
		"Opportunity", {"opportunity_from": "Lead", "party_name": lead}, pluck="name"
	) or [""]
	frappe.db.set_value(
		"CRM Activity",
		{"reference_doctype": "Opportunity", "reference_name": ("in", opportunities)},
		"activity_at",
		then,
		update_modified=False,
	)
	for doctype, reference in (("ToDo", "reference_type"), ("Comment", "reference_doctype")):
		frappe.db.set_value(
			doctype,
			{reference: "Opportunity", "reference_name": ("in", opportunities)},
			"creation",
			then,
			update_modified=False,
		)


def cleanup_playbook():
	"""The browser lead's Opportunities with their step rows, To Dos, logged activities and comments."""
	leads = frappe.get_all("Lead", {"lead_name": "Browser Check Lead"}, pluck="name")
	opportunities = frappe.get_all(
		"Opportunity", {"opportunity_from": "Lead", "party_name": ("in", leads or [""])}, pluck="name"
	)
	for name in opportunities:
		frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": name})
		frappe.db.delete("CRM Activity", {"reference_doctype": "Opportunity", "reference_name": name})
		frappe.db.delete("Comment", {"reference_doctype": "Opportunity", "reference_name": name})
	_delete_documents("Opportunity", opportunities)


def cleanup():
	started = frappe.utils.now_datetime()
	cleanup_journey_data()
	cleanup_playbook()
	deleted = []
	for lead in frappe.get_all("Lead", {"lead_name": "Browser Check Lead"}, pluck="name"):
		cleanup_timeline(lead)
		frappe.db.delete("CRM Activity", {"reference_doctype": "Lead", "reference_name": lead})
		frappe.db.delete("Lead Score Log", {"lead": lead})
		frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)
		deleted += [lead, "Browser Check Lead"]  # ERPNext deletes the Lead's Contact with it
	for rule in SCORING_RULES:
		frappe.db.delete("Lead Scoring Rule", rule["label"])
	cleanup_lead_model()
	cleanup_customer_value()
	for user in USERS:
		if frappe.db.exists("User", user):
			frappe.delete_doc("User", user, force=True, ignore_permissions=True)
			deleted.append(user)  # and its Notification Settings
	forget_deletions(deleted, started)
	frappe.db.commit()


def cleanup_timeline(lead: str):
	"""What make_timeline added besides the Lead's own activities: the task, the note, the quotation and
	the activity logged against it."""
	quotations = frappe.get_all("Quotation", {"quotation_to": "Lead", "party_name": lead}, pluck="name")
	frappe.db.delete(
		"CRM Activity", {"reference_doctype": "Quotation", "reference_name": ("in", quotations or [""])}
	)
	_delete_documents("Quotation", quotations)
	frappe.db.delete("ToDo", {"reference_type": "Lead", "reference_name": lead})
	frappe.db.delete(
		"Comment", {"reference_doctype": "Quotation", "reference_name": ("in", quotations or [""])}
	)


def forget_deletions(names: list[str], since):
	"""Deleting a document leaves a Deleted Document row and a "Deleted" comment, and the documents' own
	comments stay behind: remove those too, so a browser check leaves the site as it found it."""
	if not names:
		return
	frappe.db.delete("Deleted Document", {"deleted_name": ("in", names), "creation": (">=", since)})
	frappe.db.delete("Comment", {"reference_name": ("in", names)})
	for name in names:
		frappe.db.delete(
			"Comment",
			{"comment_type": "Deleted", "subject": ("like", f"% {name}"), "creation": (">=", since)},
		)


# Journeys (tests/browser/journeys.py): a grade A lead of the sales user's, scored by the app; Opportunities on
# a playbook with the stage gate on, one per screen size (each journey completes a step of its own); the
# customer of make_customer_value_data. Everything is named so cleanup_journey_data finds it.
JOURNEY_LEAD = "Browser Journey Lead"
# What the lead scoring model of train_lead_model learnt converts best: a large software company that came
# as an existing customer, reachable and replying lately. No email: the "has an email" rule stays
# out, so the replies the journeys log keep moving the rule score (it stops at 100).
JOURNEY_LEAD_FIELDS = {
	"source": "Existing Customer",
	"industry": "Software",
	"no_of_employees": "1000+",
	"type": "Client",
	"request_type": "Product Enquiry",
	"company_name": "Journey Software GmbH",
	"mobile_no": "+989121234567",
	"website": "https://journey-software.example.com",
	"annual_revenue": 4_000_000,
}
# (channel, direction, outcome, subject, details, hours ago)
JOURNEY_FEED = (
	("WhatsApp", "Inbound", "Replied", "Asked for the enterprise price list", None, 5),
	("WhatsApp", "Inbound", "Replied", "Sent their user count", None, 20),
	("WhatsApp", "Inbound", "Replied", "Asked about single sign-on", None, 40),
	(
		"Phone",
		"Inbound",
		"Replied",
		"Called back about the rollout",
		"They want it live before the summer",
		60,
	),
	("Email", "Outbound", "Completed", "Sent the case study", None, 70),
	("WhatsApp", "Inbound", "Replied", "Liked the demo video", None, 90),
	("WhatsApp", "Inbound", "Replied", "First question about the annual plan", None, 120),
)
JOURNEY_PLAYBOOK = "Browser Check Gated Playbook"
JOURNEY_PERSONA = "Driver"
JOURNEY_AMOUNT = 77_700  # the gated playbook's condition: only the journeys' Opportunities match it
JOURNEY_SIZES = ("phone", "desktop")


def make_journey_data(customer: str) -> dict:
	lead = make_journey_lead()
	make_gated_playbook()
	deals = {size: make_journey_opportunity(customer) for size in JOURNEY_SIZES}
	return {
		"journey_lead": lead,
		"journey_opportunities": deals,
		"journey_customer": customer,
		**make_sequence_data(),
	}


SEQUENCE_TITLE = "Browser Journey Follow-up"
SEQUENCE_LEAD = "Browser Sequence Lead"
ENROLL_LEAD = "Browser Enroll Lead"


def make_sequence_data() -> dict:
	"""A sequence (a call, then a message two business days later) whose first step already ran for one of
	the Sales User's Leads, through the app's executor, so "Due today" lists its call; and a Lead per size
	for the journey to enroll from the form."""
	from datetime import time

	from frappe.utils import add_to_date, get_system_timezone, now_datetime

	from crm_extension.sequences.calendar import SendingCalendar
	from crm_extension.sequences.enrollment import enroll
	from crm_extension.sequences.execute import Chunk, execute_enrollment
	from crm_extension.sequences.parties import load_party

	sequence = frappe.get_doc(
		{
			"doctype": "CRM Sequence",
			"title": SEQUENCE_TITLE,
			"steps": [
				{"step_type": "Call Task", "delay_days": 0, "task_text": "Ask about the budget"},
				{"step_type": "Messaging Task", "delay_days": 2, "task_text": "Send the price list"},
			],
		}
	).insert(ignore_permissions=True)
	lead = sequence_lead(SEQUENCE_LEAD)
	enrollment = enroll(sequence.name, "Lead", lead, SALES_USER)
	frappe.db.set_value(
		"CRM Sequence Enrollment", enrollment, "next_step_at", add_to_date(now_datetime(), minutes=-1)
	)
	party = load_party("Lead", lead)
	chunk = Chunk(now=now_datetime())
	# whatever the clock says when the check runs, the step is inside an all-day window
	chunk.calendars[party.company] = SendingCalendar(
		frozenset(), time(0, 0), time(23, 59, 59), get_system_timezone()
	)
	execute_enrollment(enrollment, party, chunk)
	return {
		"sequence": sequence.name,
		"sequence_lead": lead,
		"enroll_leads": {size: sequence_lead(f"{ENROLL_LEAD} {size}") for size in JOURNEY_SIZES},
	}


def sequence_lead(name: str) -> str:
	return (
		frappe.get_doc({"doctype": "Lead", "lead_name": name, "lead_owner": SALES_USER})
		.insert(ignore_permissions=True)
		.name
	)


def cleanup_sequence_data():
	leads = frappe.get_all("Lead", {"lead_name": ("like", "Browser % Lead%")}, pluck="name")
	leads = [
		name
		for name in leads
		if frappe.db.get_value("Lead", name, "lead_name").startswith((SEQUENCE_LEAD, ENROLL_LEAD))
	]
	enrollments = frappe.get_all("CRM Sequence Enrollment", {"sequence": SEQUENCE_TITLE}, pluck="name")
	frappe.db.delete("CRM Sequence Step Run", {"enrollment": ("in", enrollments or [""])})
	frappe.db.delete(
		"Version", {"ref_doctype": "CRM Sequence Enrollment", "docname": ("in", enrollments or [""])}
	)
	frappe.db.delete("CRM Sequence Enrollment", {"name": ("in", enrollments or [""])})
	frappe.db.delete("ToDo", {"reference_type": "Lead", "reference_name": ("in", leads or [""])})
	frappe.db.delete("CRM Sequence Sender", {"name": SALES_USER})
	frappe.db.delete("Notification Log", {"document_type": "Lead", "document_name": ("in", leads or [""])})
	started = frappe.utils.now_datetime()
	for lead in leads:
		frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)  # with its Contact
	if frappe.db.exists("CRM Sequence", SEQUENCE_TITLE):
		frappe.delete_doc("CRM Sequence", SEQUENCE_TITLE, force=True, ignore_permissions=True)
	forget_deletions([*leads, SEQUENCE_TITLE], started)


def make_journey_lead() -> str:
	"""Inserted, its feed logged and scored by the app (score_leads), then given to the sales user: scored
	while it is Administrator's, so reaching grade A queues no notice for a user cleanup removes."""
	from frappe.utils import add_to_date, now_datetime

	lead = frappe.get_doc({"doctype": "Lead", "lead_name": JOURNEY_LEAD, **JOURNEY_LEAD_FIELDS}).insert(
		ignore_permissions=True
	)
	for channel, direction, outcome, subject, details, hours in JOURNEY_FEED:
		frappe.get_doc(
			{
				"doctype": "CRM Activity",
				"channel": channel,
				"direction": direction,
				"outcome": outcome,
				"subject": subject,
				"details": details,
				"activity_at": add_to_date(now_datetime(), hours=-hours),
				"reference_doctype": "Lead",
				"reference_name": lead.name,
			}
		).insert(ignore_permissions=True)
	from crm_extension.activity_log.refresh import refresh_preferred_channel

	refresh_preferred_channel("Lead", lead.name)
	score_leads([lead.name])
	grade, probability = frappe.db.get_value("Lead", lead.name, ["lead_grade", "conversion_probability"])
	if grade != "A":
		raise RuntimeError(f"Browser check: the journey lead scored grade {grade} ({probability}%), not A")
	frappe.db.set_value("Lead", lead.name, "lead_owner", SALES_USER, update_modified=False)
	return lead.name


def make_gated_playbook():
	"""The default playbook's steps under a playbook that enforces the stage gate, matching only the journeys'
	Opportunities (persona and amount)."""
	from crm_extension.sales_playbook.store import clear_cache

	default = frappe.get_doc("Sales Playbook", {"is_default": 1, "enabled": 1})
	playbook = frappe.copy_doc(default)
	playbook.update(
		{
			"playbook_name": JOURNEY_PLAYBOOK,
			"title_fa": None,
			"is_default": 0,
			"is_standard": 0,
			"stage_gate": 1,
			"buyer_persona": JOURNEY_PERSONA,
			"min_amount": JOURNEY_AMOUNT,
			"max_amount": JOURNEY_AMOUNT,
		}
	)
	playbook.insert(ignore_permissions=True)
	clear_cache()


def make_journey_opportunity(customer: str) -> str:
	from crm_extension.tests.factories import make_opportunity

	return make_opportunity(
		"Customer",
		customer,
		buyer_persona=JOURNEY_PERSONA,
		opportunity_amount=JOURNEY_AMOUNT,
		base_opportunity_amount=JOURNEY_AMOUNT,
		sales_playbook=JOURNEY_PLAYBOOK,
	).name


def run_queued_lead_refresh(lead: str) -> dict:
	"""The worker-free path of the journeys: the jobs a logged activity queued for ``lead`` after commit (its
	score, its preferred channel) are run here as a worker would run them, then taken off the queue. Prints
	which were queued, and the Lead's score and grade after."""
	from frappe.utils.background_jobs import get_job

	from crm_extension.refresh_queue import WORK

	ran = []
	for kind in ("lead_score", "preferred_channel"):
		work = WORK[kind]
		job = get_job(work.job_id(("Lead", lead)))
		if job is None or job.get_status() != "queued":
			continue
		frappe.get_attr(work.party_method)(**work.party_kwargs(("Lead", lead)))
		job.cancel()
		job.delete()
		ran.append(kind)
	frappe.db.commit()
	values = frappe.db.get_value("Lead", lead, ["lead_score", "lead_grade", "score_updated_on"], as_dict=True)
	result = {"ran": ran, **{key: str(value) for key, value in values.items()}}
	print(json.dumps(result))
	return result


def cleanup_journey_data():
	"""The journey lead with its activities, score log and preferred-channel rows, the journeys'
	Opportunities, the gated playbook."""
	from crm_extension.sales_playbook.store import clear_cache

	cleanup_sequence_data()
	opportunities = frappe.get_all("Opportunity", {"sales_playbook": JOURNEY_PLAYBOOK}, pluck="name")
	for name in opportunities:
		frappe.db.delete("ToDo", {"reference_type": "Opportunity", "reference_name": name})
		frappe.db.delete("CRM Activity", {"reference_doctype": "Opportunity", "reference_name": name})
		frappe.db.delete("Comment", {"reference_doctype": "Opportunity", "reference_name": name})
	_delete_documents("Opportunity", opportunities)
	_delete_documents(
		"Sales Playbook", frappe.get_all("Sales Playbook", {"name": JOURNEY_PLAYBOOK}, pluck="name")
	)
	clear_cache()
	leads = frappe.get_all("Lead", {"lead_name": JOURNEY_LEAD}, pluck="name")
	started = frappe.utils.now_datetime()
	for lead in leads:
		frappe.db.delete("CRM Activity", {"reference_doctype": "Lead", "reference_name": lead})
		frappe.db.delete("Lead Score Log", {"lead": lead})
		frappe.delete_doc("Lead", lead, force=True, ignore_permissions=True)
	# ERPNext made a Contact of the Lead (its mobile number); deleting the Lead unlinks it but keeps it
	_delete_documents("Contact", frappe.get_all("Contact", {"first_name": JOURNEY_LEAD}, pluck="name"))
	forget_deletions([*leads, JOURNEY_LEAD] if leads else [], started)
