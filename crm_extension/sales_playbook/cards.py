"""The numbers of the CRM Hub's playbook cards ("Overdue Playbook Steps", "Stalled Deals"), counted over the open
Opportunities the user may read (``frappe.get_list`` applies their permissions), each in one grouped query.

- **Overdue steps**: open step rows due before today on open Opportunities.
- **Stalled deals**: open Opportunities longer in their sales stage than their playbook expects
  (``engine.recommend.detect_stall``, as the guide flags them). The days are counted from ``stage_since`` (the
  Opportunity's date when it has none); the expectation comes from the playbook's steps as they are now, which
  the open steps follow (``attach.sync_open_opportunities``); without a playbook, ``default_stage_days``.

Each answer carries the route a click on the card opens.
"""

import frappe
from frappe.utils import date_diff, getdate, today

from crm_extension.sales_playbook.attach import CLOSED_STATUSES, STEP_ROW
from crm_extension.sales_playbook.engine.progress import OPEN
from crm_extension.sales_playbook.engine.recommend import DEFAULT_SETTINGS, detect_stall
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
	stalled = 0
	for group in groups:
		since = group.stage_since or group.transaction_date
		days = max(date_diff(today(), getdate(since)), 0) if since else 0
		steps = (
			[source["step"] for source in get_playbook_steps(group.sales_playbook)]
			if group.sales_playbook
			else []
		)
		if detect_stall(group.sales_stage or "", days, steps, DEFAULT_SETTINGS.default_stage_days):
			stalled += group.deals
	return {
		"value": stalled,
		"fieldtype": "Int",
		"route": ["List", "Opportunity", "List"],
		"route_options": {"status": "Open"},
	}
