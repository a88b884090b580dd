"""REST API of sales playbooks: the guide for one Opportunity, and completing one of its steps.

- ``guide(opportunity)`` → ``{opportunity, playbook, playbook_title, stage_gate, sales_stage, progress, steps,
  next_step, recommended_technique: {name, title, reason, reasons, description, example_lines, win_rate, deals},
  persona_tips, stalled}``; for whoever may read the Opportunity.
- ``complete_step(opportunity, step, outcome=None, notes=None)`` → the updated guide; ``step`` is the ``name``
  of a step row as ``guide()`` returns it. Logs a CRM Activity about the Opportunity and closes the step's
  To Dos; a step already done is left as it is (no second activity). For whoever may write the Opportunity.
- ``skip_step(opportunity, step, reason=None)`` → the updated guide; marks an optional open step Skipped, cancels
  its To Dos and leaves the reason as a comment on the Opportunity; a step no longer open is left as it is, a
  mandatory step is refused (the stage gate relies on it). Same permissions as ``complete_step``.
- ``overdue_steps_card()``, ``stalled_deals_card()`` → ``{value, fieldtype, route, route_options}`` for the
  CRM Hub's number cards, over the Opportunities the caller may read.

Texts are in the caller's language (English when a record has no Persian text). Rules: sales_playbook.guide.
"""

import frappe
from frappe import _

from crm_extension.sales_playbook import cards
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


@frappe.whitelist(methods=["POST"])
def skip_step(opportunity: str, step: str, reason: str | None = None) -> dict:
	check_exists(opportunity)
	frappe.has_permission("Opportunity", "write", opportunity, throw=True)
	playbook_guide.skip(opportunity, step, reason or None)
	return playbook_guide.build_guide(frappe.get_doc("Opportunity", opportunity))


@frappe.whitelist()
def overdue_steps_card(filters: str | None = None) -> dict:
	"""The "Overdue Playbook Steps" number card (sales_playbook.cards)."""
	return cards.overdue_steps()


@frappe.whitelist()
def stalled_deals_card(filters: str | None = None) -> dict:
	"""The "Stalled Deals" number card (sales_playbook.cards)."""
	return cards.stalled_deals()


def check_exists(opportunity: str):
	if not frappe.db.exists("Opportunity", opportunity):
		frappe.throw(
			_("{0} {1} does not exist").format(_("Opportunity"), frappe.bold(opportunity)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
