"""Opportunities: made from the Lead with ERPNext's mapping (the app attaches its Sales Playbook and the
steps), moved through the sales stages as the team completes the playbook's steps (the app's own
``complete``), then quoted and won, declared lost, or still open. Dates are those of the story."""

from datetime import datetime, timedelta

import frappe
from frappe.utils import getdate, today

from crm_extension.demo.leads import backdate
from crm_extension.demo.people import as_user
from crm_extension.demo.plan import PROPOSAL_STAGE, STAGES, Deal, LeadStory
from crm_extension.demo.profiles import Profile
from crm_extension.demo.texts import ITEMS, LOST_REASONS

OUTCOMES = ("Completed", "Replied", "Interested", "Meeting Held")


def ensure_lost_reasons(lang: str):
	for reason in LOST_REASONS[lang]:
		for doctype, field in (
			("Opportunity Lost Reason", "lost_reason"),
			("Quotation Lost Reason", "order_lost_reason"),
		):
			if not frappe.db.exists(doctype, reason):
				frappe.get_doc({"doctype": doctype, field: reason}).insert(ignore_permissions=True)


def make_deal(story: LeadStory, lead: str, owner: str, profile: Profile) -> str:
	from erpnext.crm.doctype.lead.lead import make_opportunity

	deal = story.deal
	opportunity = make_opportunity(lead)
	opportunity.update(
		{
			"company": profile.company,
			"transaction_date": deal.created.date(),
			"opportunity_type": "Sales",
			"sales_stage": STAGES[0],
			"opportunity_owner": owner,
			"buyer_persona": deal.persona,
			"currency": profile.currency,
			"conversion_rate": 1,
			"expected_closing": (deal.closed or deal.created + timedelta(days=45)).date(),
			"probability": 10 + deal.stage * 10,
		}
	)
	opportunity.set("items", [])
	for item, qty in deal.lines:
		code, _en, _fa, _cost, price = ITEMS[item]
		opportunity.append("items", {"item_code": code, "qty": qty, "rate": price * profile.price_factor})
	amount = sum(row.qty * row.rate for row in opportunity.items)
	opportunity.opportunity_amount = opportunity.base_opportunity_amount = amount
	opportunity.insert(ignore_permissions=True)
	_work_the_playbook(opportunity.name, deal)
	return opportunity.name


def _work_the_playbook(opportunity: str, deal: Deal):
	"""Complete the steps of each stage the deal went through, then move it to the stage it reached."""
	from crm_extension.sales_playbook.guide import complete

	steps = frappe.get_all(
		"Opportunity Playbook Step",
		{"parent": opportunity, "parenttype": "Opportunity"},
		["name", "sales_stage", "mandatory"],
		order_by="idx",
	)
	# The mandatory steps of the stages it went through, and every third optional one.
	reached = STAGES[: deal.stage]
	done = [
		step.name
		for number, step in enumerate(steps)
		if (step.sales_stage in reached and (step.mandatory or number % 3 == 0))
		or (step.sales_stage == STAGES[deal.stage] and step.mandatory and number % 3 == 0)
	]
	for number, step in enumerate(done):
		complete(opportunity, step, outcome=OUTCOMES[number % len(OUTCOMES)])
	if deal.stage >= 4:
		_move(opportunity, STAGES[deal.stage // 2])
	_move(opportunity, STAGES[deal.stage])
	_date_the_steps(opportunity, deal, done)


def _move(opportunity: str, stage: str):
	doc = frappe.get_doc("Opportunity", opportunity)
	if doc.sales_stage != stage:
		doc.sales_stage = stage
		doc.save(ignore_permissions=True)


def _date_the_steps(opportunity: str, deal: Deal, done: list[str]):
	"""The playbook scheduled the steps from today and the steps were completed today: put them at the
	deal's own dates (due dates from its creation, each done step between its creation and its end)."""
	shift = (deal.created.date() - getdate(today())).days
	end = deal.closed or datetime.combine(getdate(today()), deal.created.time())
	rows = frappe.get_all(
		"Opportunity Playbook Step", {"parent": opportunity}, ["name", "due_date", "todo", "activity"]
	)
	for row in rows:
		due = getdate(row.due_date) + timedelta(days=shift) if row.due_date else None
		frappe.db.set_value("Opportunity Playbook Step", row.name, "due_date", due, update_modified=False)
		if row.todo:
			frappe.db.set_value("ToDo", row.todo, "date", due, update_modified=False)
	for number, name in enumerate(done, start=1):
		at = deal.created + (end - deal.created) * number / (len(done) + 1)
		activity = frappe.db.get_value("Opportunity Playbook Step", name, "activity")
		frappe.db.set_value("Opportunity Playbook Step", name, "done_on", at.date(), update_modified=False)
		if activity:
			frappe.db.set_value(
				"CRM Activity",
				activity,
				{"activity_at": at, "creation": at, "modified": at},
				update_modified=False,
			)
	stage_since = deal.created + (end - deal.created) * 0.8
	frappe.db.set_value("Opportunity", opportunity, "stage_since", stage_since.date(), update_modified=False)
	backdate("Opportunity", opportunity, end if deal.closed else stage_since, created=deal.created)


def quote(story: LeadStory, opportunity: str, profile: Profile) -> str:
	"""A submitted Quotation from the Opportunity, a few days before the deal closed."""
	from erpnext.crm.doctype.opportunity.opportunity import make_quotation

	deal = story.deal
	quoted_on = (deal.closed - timedelta(days=4)).date()
	quotation = make_quotation(opportunity)
	quotation.update(
		{
			"transaction_date": quoted_on,
			"valid_till": None,  # ERPNext refuses to order a quotation whose validity ended before today
			"company": profile.company,
			"currency": profile.currency,
			"selling_price_list": "Standard Selling",
		}
	)
	quotation.insert(ignore_permissions=True)
	quotation.submit()
	return quotation.name


def lose(story: LeadStory, opportunity: str, profile: Profile):
	"""Lost at the proposal: the Quotation is declared lost; earlier: the Opportunity is."""
	deal = story.deal
	reason = LOST_REASONS[profile.lang][deal.lost_reason]
	if deal.stage >= PROPOSAL_STAGE:
		quotation = frappe.get_doc("Quotation", quote(story, opportunity, profile))
		# ERPNext reads the lost reasons with the user's permissions: only a Sales Master Manager may.
		with as_user("Administrator"):
			quotation.declare_enquiry_lost([{"lost_reason": reason}], [], reason)
	else:
		frappe.get_doc("Opportunity", opportunity).declare_enquiry_lost([{"lost_reason": reason}], [], reason)
	backdate("Opportunity", opportunity, deal.closed, created=deal.created)
