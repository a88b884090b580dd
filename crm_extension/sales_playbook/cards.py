"""The numbers of the CRM Hub's playbook cards ("Overdue Playbook Steps", "Stalled Deals"), counted over the open
Opportunities the user may read (``frappe.get_list`` applies their permissions), each in one grouped query.

- **Overdue steps**: open step rows due before today on open Opportunities.
- **Stalled deals**: open Opportunities longer in their sales stage than their playbook expects
  (``engine.recommend.detect_stall``, as the guide flags them). The days are counted from ``stage_since`` (the
  Opportunity's date when it has none); the expectation comes from the playbook's steps as they are now, which
  the open steps follow (``attach.sync_open_opportunities``); without a playbook, ``default_stage_days``.

Each answer carries the route a click on the card opens: the overdue steps' To Dos, and the Playbook Pipeline
report with "only stalled" for the stalled deals.
"""

import frappe
from frappe.utils import add_days, date_diff, getdate, today

from crm_extension.sales_playbook.attach import CLOSED_STATUSES, STEP_ROW
from crm_extension.sales_playbook.engine.progress import OPEN
from crm_extension.sales_playbook.engine.recommend import (
	DEFAULT_SETTINGS,
	detect_stall,
	expected_stage_days,
)
from crm_extension.sales_playbook.store import get_playbook_steps


def overdue_steps() -> dict:
	rows = frappe.get_list(
		"Opportunity",
		filters=[
			["Opportunity", "status", "not in", CLOSED_STATUSES],
			[STEP_ROW, "status", "=", OPEN],
			[STEP_ROW, "due_date", "<", today()],
		],
		fields=[f"count(`tab{STEP_ROW}`.`name`) as steps"],
		order_by=None,
	)
	return {
		"value": rows[0].steps if rows else 0,
		"fieldtype": "Int",
		"route": ["List", "ToDo", "List"],
		"route_options": {
			"reference_type": "Opportunity",
			"status": "Open",
			"crm_playbook_step": ["is", "set"],
			"date": ["<", today()],
		},
	}


def stalled_deals() -> dict:
	groups = frappe.get_list(
		"Opportunity",
		filters={"status": ("not in", CLOSED_STATUSES)},
		fields=["sales_playbook", "sales_stage", "stage_since", "transaction_date", "count(name) as deals"],
		group_by="sales_playbook, sales_stage, stage_since, transaction_date",
		order_by=None,
	)
	stalled = sum(group.deals for group in groups if stall_of(group))
	return {
		"value": stalled,
		"fieldtype": "Int",
		# A list view cannot filter on "longer in its stage than its playbook expects"; the report can.
		"route": ["query-report", "Playbook Pipeline"],
		"route_options": {"only_stalled": 1},
	}


def stalled_condition(where: str, params: dict) -> str | None:
	"""SQL true for the stalled rows of ``tabOpportunity`` among those matching ``where``: one term per
	(playbook, stage) pair, stalled when the days since ``stage_since`` (else the Opportunity's date) exceed
	what that playbook expects of the stage (``stall_of``). None when no Opportunity matches."""
	pairs = frappe.db.sql(
		f"select distinct sales_playbook, sales_stage from `tabOpportunity` where {where}",
		params,
		as_dict=True,
	)
	terms = []
	for index, pair in enumerate(pairs):
		expected = expected_days(pair.sales_playbook, pair.sales_stage)
		params.update(
			{f"stall_pb{index}": pair.sales_playbook or "", f"stall_st{index}": pair.sales_stage or ""}
		)
		params[f"stall_cut{index}"] = add_days(today(), -expected)
		terms.append(
			f"(coalesce(`tabOpportunity`.sales_playbook, '') = %(stall_pb{index})s"
			f" and coalesce(`tabOpportunity`.sales_stage, '') = %(stall_st{index})s"
			" and coalesce(`tabOpportunity`.stage_since, `tabOpportunity`.transaction_date)"
			f" < %(stall_cut{index})s)"
		)
	return "(" + " or ".join(terms) + ")" if terms else None


def expected_days(playbook: str | None, stage: str | None) -> int:
	steps = [source["step"] for source in get_playbook_steps(playbook)] if playbook else []
	return expected_stage_days(steps, stage or "", DEFAULT_SETTINGS.default_stage_days)


def days_in_stage(opportunity) -> int:
	since = opportunity.stage_since or opportunity.transaction_date
	return max(date_diff(today(), getdate(since)), 0) if since else 0


def stall_of(opportunity):
	"""The engine's stall verdict for an Opportunity row (sales_playbook, sales_stage, stage_since,
	transaction_date): longer in its stage than its playbook's steps, as they are now, expect."""
	steps = (
		[source["step"] for source in get_playbook_steps(opportunity.sales_playbook)]
		if opportunity.sales_playbook
		else []
	)
	return detect_stall(
		opportunity.sales_stage or "", days_in_stage(opportunity), steps, DEFAULT_SETTINGS.default_stage_days
	)
