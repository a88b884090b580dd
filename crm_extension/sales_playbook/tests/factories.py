"""Playbooks, roles and Opportunities for the sales-playbook tests (real documents, unique names)."""

import frappe

from crm_extension.sales_playbook.guide import clear_win_rates
from crm_extension.sales_playbook.store import clear_cache
from crm_extension.tests.factories import make_lead, make_opportunity, unique


def make_opportunity_type() -> str:
	name = unique("Playbook Type")
	frappe.get_doc({"doctype": "Opportunity Type", "name": name}).insert(ignore_permissions=True)
	return name


def make_role() -> str:
	name = unique("Playbook Role")
	frappe.get_doc({"doctype": "Role", "role_name": name, "desk_access": 1}).insert(ignore_permissions=True)
	return name


def step(title: str, sales_stage: str = "Prospecting", **values) -> dict:
	return {
		"title": title,
		"title_fa": values.pop("title_fa", f"گام {title}"),
		"sales_stage": sales_stage,
		"action_type": values.pop("action_type", "Call"),
		"channel": values.pop("channel", "Phone"),
		"due_after_days": values.pop("due_after_days", 2),
		**values,
	}


def make_playbook(steps: list[dict] | None = None, **values):
	steps = steps or [
		step("Call the buyer", mandatory=1, closing_technique="Question"),
		step("Send the summary", action_type="Email", channel="Email", closing_technique="Summary"),
		step("Qualify the deal", "Qualification", mandatory=1),
	]
	return frappe.get_doc(
		{
			"doctype": "Sales Playbook",
			"playbook_name": values.pop("playbook_name", None) or unique("Playbook"),
			"enabled": 1,
			**values,
			"steps": steps,
		}
	).insert(ignore_permissions=True)


def make_playbook_opportunity(**values):
	"""An Opportunity for a new Lead, of an Opportunity Type only the given playbook conditions on."""
	return make_opportunity("Lead", values.pop("lead", None) or make_lead().name, **values)


def reset_caches():
	clear_cache()
	clear_win_rates()
