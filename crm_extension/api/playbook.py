"""REST API of sales playbooks: the guide for one Opportunity, and completing one of its steps.

- ``guide(opportunity)`` → ``{opportunity, playbook, playbook_title, stage_gate, sales_stage, progress, steps,
  next_step, recommended_technique: {name, title, reason, reasons, description, example_lines, win_rate, deals},
  persona_tips, stalled}``; for whoever may read the Opportunity.
- ``complete_step(opportunity, step, outcome=None, notes=None)`` → the updated guide; ``step`` is the ``name``
  of a step row as ``guide()`` returns it. Logs a CRM Activity about the Opportunity and closes the step's
  To Dos; a step already done is left as it is (no second activity). For whoever may write the Opportunity.

Texts are in the caller's language (English when a record has no Persian text). Rules: sales_playbook.guide.
"""

import frappe
from frappe import _

from crm_extension.sales_playbook import guide as playbook_guide


@frappe.whitelist(methods=["GET", "POST"])
def guide(opportunity: str) -> dict:
	check_exists(opportunity)
	doc = frappe.get_doc("Opportunity", opportunity)
	frappe.has_permission("Opportunity", "read", doc, throw=True)
	return playbook_guide.build_guide(doc)


@frappe.whitelist(methods=["POST"])
def complete_step(opportunity: str, step: str, outcome: str | None = None, notes: str | None = None) -> dict:
	check_exists(opportunity)
	frappe.has_permission("Opportunity", "write", opportunity, throw=True)
	playbook_guide.complete(opportunity, step, outcome or None, notes or None)
	return playbook_guide.build_guide(frappe.get_doc("Opportunity", opportunity))


def check_exists(opportunity: str):
	if not frappe.db.exists("Opportunity", opportunity):
		frappe.throw(
			_("{0} {1} does not exist").format(_("Opportunity"), frappe.bold(opportunity)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
