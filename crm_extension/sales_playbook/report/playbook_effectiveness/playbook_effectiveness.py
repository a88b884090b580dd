"""How playbooks, their steps, closing techniques and buyer personas fare: Opportunities, won and lost, win
rate, cycle time and step completion, for the Opportunities the user may read (created in the date range).

Won is status Converted, lost is Lost. Cycle time is the days from the Opportunity's date to its last change
for closed ones. The closing technique of an Opportunity is that of its last done step that suggests one.
Grouped by step, an Opportunity counts for every step it has, and won or lost only where the step was done.
"""

from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import date_diff, getdate

from crm_extension.sales_playbook.attach import STEP_ROW

WON, LOST = "Converted", "Lost"
NONE = "—"
CHUNK = 500


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	rows = get_rows(filters)
	return get_columns(filters), rows, None, get_chart(rows)


def get_columns(filters) -> list[dict]:
	group_by = filters.get("group_by") or "Playbook"
	return [
		{"fieldname": "group", "label": _(group_by), "fieldtype": "Data", "width": 220},
		{"fieldname": "opportunities", "label": _("Opportunities"), "fieldtype": "Int", "width": 120},
		{"fieldname": "open", "label": _("Open"), "fieldtype": "Int", "width": 80},
		{"fieldname": "won", "label": _("Won"), "fieldtype": "Int", "width": 80},
		{"fieldname": "lost", "label": _("Lost"), "fieldtype": "Int", "width": 80},
		{"fieldname": "win_rate", "label": _("Win Rate"), "fieldtype": "Percent", "width": 100},
		{
			"fieldname": "cycle_days",
			"label": _("Average Cycle (Days)"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 150,
		},
		{"fieldname": "step_completion", "label": _("Step Completion"), "fieldtype": "Percent", "width": 130},
	]


def get_rows(filters) -> list[dict]:
	opportunities = load_opportunities(filters)
	steps = load_steps([o.name for o in opportunities])
	groups: dict[str, list] = defaultdict(list)
	group_by = filters.get("group_by") or "Playbook"
	for opportunity in opportunities:
		own_steps = steps.get(opportunity.name, [])
		for key, step_rows in group_keys(group_by, opportunity, own_steps):
			groups[key].append((opportunity, step_rows))
	rows = [summarise(key, members, counts_step=group_by == "Step") for key, members in groups.items()]
	return sorted(rows, key=lambda row: (-row["opportunities"], row["group"]))


def load_opportunities(filters) -> list:
	conditions = {}
	if filters.get("company"):
		conditions["company"] = filters.company
	if filters.get("from_date") and filters.get("to_date"):
		conditions["transaction_date"] = ("between", [filters.from_date, filters.to_date])
	# frappe.get_list applies the user's permissions on Opportunity.
	return frappe.get_list(
		"Opportunity",
		filters=conditions,
		fields=["name", "status", "buyer_persona", "sales_playbook", "transaction_date", "modified"],
		limit_page_length=0,
	)


def load_steps(names: list[str]) -> dict[str, list]:
	grouped: dict[str, list] = defaultdict(list)
	for start in range(0, len(names), CHUNK):
		for row in frappe.get_all(
			STEP_ROW,
			filters={"parenttype": "Opportunity", "parent": ("in", names[start : start + CHUNK])},
			fields=["parent", "step_key", "title", "status", "closing_technique"],
			order_by="parent asc, done_on asc, idx asc",
		):
			grouped[row.parent].append(row)
	return grouped


def group_keys(group_by: str, opportunity, step_rows: list) -> list[tuple[str, list]]:
	if group_by == "Step":
		by_title: dict[str, list] = defaultdict(list)
		for row in step_rows:
			by_title[f"{opportunity.sales_playbook or NONE} › {row.title}"].append(row)
		return list(by_title.items())
	if group_by == "Closing Technique":
		done = [row.closing_technique for row in step_rows if row.status == "Done" and row.closing_technique]
		return [(done[-1] if done else NONE, step_rows)]
	if group_by == "Buyer Persona":
		return [(opportunity.buyer_persona or NONE, step_rows)]
	return [(opportunity.sales_playbook or NONE, step_rows)]


def summarise(key: str, members: list, counts_step: bool) -> dict:
	won = lost = 0
	cycles, done, total = [], 0, 0
	for opportunity, step_rows in members:
		step_done = any(row.status == "Done" for row in step_rows)
		closed = opportunity.status in (WON, LOST) and (step_done or not counts_step)
		won += closed and opportunity.status == WON
		lost += closed and opportunity.status == LOST
		if closed and opportunity.transaction_date:
			cycles.append(date_diff(getdate(opportunity.modified), opportunity.transaction_date))
		done += sum(row.status == "Done" for row in step_rows)
		total += len(step_rows)
	count = len(members)
	return {
		"group": key,
		"opportunities": count,
		"open": sum(o.status not in (WON, LOST) for o, _rows in members),
		"won": won,
		"lost": lost,
		"win_rate": 100 * won / (won + lost) if won + lost else 0,
		"cycle_days": sum(cycles) / len(cycles) if cycles else None,
		"step_completion": 100 * done / total if total else 0,
	}


def get_chart(rows: list[dict]) -> dict:
	top = rows[:12]
	return {
		"data": {
			"labels": [row["group"] for row in top],
			"datasets": [
				{"name": _("Win Rate"), "values": [round(row["win_rate"], 1) for row in top]},
				{"name": _("Step Completion"), "values": [round(row["step_completion"], 1) for row in top]},
			],
		},
		"type": "bar",
	}
