"""Open Opportunities the user may read, with their playbook's progress, the next step and whether the deal
has stalled in its stage (as the guide and the "Stalled Deals" card judge it). One query for the
Opportunities, one for their open steps; "only stalled" is a condition of the first query (one more query
finds the playbook and stage pairs it needs), so the row limit applies to stalled deals only."""

import frappe
from frappe import _

from crm_extension.activity_log.permissions import match_conditions
from crm_extension.sales_playbook.attach import CLOSED_STATUSES, STEP_ROW
from crm_extension.sales_playbook.cards import days_in_stage, stall_of, stalled_condition

ROW_LIMIT = 1000
FIELDS = (
	"name",
	"customer_name",
	"party_name",
	"opportunity_owner",
	"sales_stage",
	"sales_playbook",
	"playbook_progress",
	"stage_since",
	"transaction_date",
	"opportunity_amount",
)


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	rows = pipeline_rows(filters)
	return columns(), rows, None, stage_chart(rows)


def pipeline_rows(filters) -> list[dict]:
	if not frappe.has_permission("Opportunity", "read"):
		return []
	where, params = ["`tabOpportunity`.status not in %(closed)s"], {"closed": CLOSED_STATUSES}
	for field in ("sales_playbook", "sales_stage", "opportunity_owner"):
		if filters.get(field):
			where.append(f"`tabOpportunity`.{field} = %({field})s")
			params[field] = filters.get(field)
	if permitted := match_conditions("Opportunity"):  # user permissions, "if owner", permission hooks
		where.append(permitted)
	if filters.only_stalled:
		stalled = stalled_condition(" and ".join(where), params)
		if not stalled:
			return []
		where.append(stalled)
	opportunities = frappe.db.sql(
		f"""select {", ".join(FIELDS)} from `tabOpportunity` where {" and ".join(where)}
		order by transaction_date desc, name desc limit {ROW_LIMIT}""",
		params,
		as_dict=True,
	)
	next_steps = first_open_steps([opportunity.name for opportunity in opportunities])
	return [_row(opportunity, next_steps.get(opportunity.name)) for opportunity in opportunities]


def first_open_steps(opportunities: list[str]) -> dict[str, dict]:
	if not opportunities:
		return {}
	steps = frappe.db.sql(
		f"""select parent, title, due_date from `tab{STEP_ROW}`
		where parenttype = 'Opportunity' and parent in %(names)s and status = 'Open'
		order by parent, idx""",
		{"names": tuple(opportunities)},
		as_dict=True,
	)
	first: dict[str, dict] = {}
	for step in steps:
		first.setdefault(step.parent, step)
	return first


def _row(opportunity, step: dict | None) -> dict:
	stall = stall_of(opportunity)
	return {
		"opportunity": opportunity.name,
		"party": opportunity.customer_name or opportunity.party_name,
		"owner": opportunity.opportunity_owner,
		"sales_stage": opportunity.sales_stage,
		"sales_playbook": opportunity.sales_playbook,
		"progress": opportunity.playbook_progress,
		"next_step": step.title if step else None,
		"next_step_due": step.due_date if step else None,
		"days_in_stage": days_in_stage(opportunity),
		"expected_days": stall.expected_days if stall else None,
		"stalled": 1 if stall else 0,
		"amount": opportunity.opportunity_amount,
	}


def columns() -> list[dict]:
	return [
		{
			"fieldname": "opportunity",
			"label": _("Opportunity"),
			"fieldtype": "Link",
			"options": "Opportunity",
			"width": 170,
		},
		{"fieldname": "party", "label": _("Party"), "fieldtype": "Data", "width": 160},
		{"fieldname": "owner", "label": _("Owner"), "fieldtype": "Link", "options": "User", "width": 150},
		{
			"fieldname": "sales_stage",
			"label": _("Sales Stage"),
			"fieldtype": "Link",
			"options": "Sales Stage",
			"width": 140,
		},
		{
			"fieldname": "sales_playbook",
			"label": _("Playbook"),
			"fieldtype": "Link",
			"options": "Sales Playbook",
			"width": 160,
		},
		{"fieldname": "progress", "label": _("Progress"), "fieldtype": "Percent", "width": 90},
		{"fieldname": "next_step", "label": _("Next Step"), "fieldtype": "Data", "width": 200},
		{"fieldname": "next_step_due", "label": _("Due"), "fieldtype": "Date", "width": 100},
		{"fieldname": "days_in_stage", "label": _("Days in Stage"), "fieldtype": "Int", "width": 100},
		{"fieldname": "stalled", "label": _("Stalled"), "fieldtype": "Check", "width": 80},
		{"fieldname": "amount", "label": _("Amount"), "fieldtype": "Currency", "width": 120},
	]


def stage_chart(rows: list[dict]) -> dict | None:
	if not rows:
		return None
	stages = sorted({row["sales_stage"] or _("No Stage") for row in rows})
	moving = [
		sum(1 for row in rows if (row["sales_stage"] or _("No Stage")) == stage and not row["stalled"])
		for stage in stages
	]
	stalled = [
		sum(1 for row in rows if (row["sales_stage"] or _("No Stage")) == stage and row["stalled"])
		for stage in stages
	]
	return {
		"data": {
			"labels": stages,
			"datasets": [{"name": _("Moving"), "values": moving}, {"name": _("Stalled"), "values": stalled}],
		},
		"type": "bar",
		"barOptions": {"stacked": 1},
	}
