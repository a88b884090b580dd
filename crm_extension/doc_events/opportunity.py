"""The sales playbook on the Opportunity: attach on create or when its conditions change, inherit the buyer
persona, enforce the stage gate, and create or cancel the steps' To Dos (rules in sales_playbook.attach)."""

from crm_extension.sales_playbook.attach import update_todos, validate_opportunity
from crm_extension.sequences import exits


def validate(doc, method=None):
	validate_opportunity(doc)


def on_update(doc, method=None):
	update_todos(doc)
	if not doc.flags.in_insert and (doc.has_value_changed("status") or doc.has_value_changed("sales_stage")):
		exits.queue_check(
			"Opportunity", doc.name, {("Opportunity", doc.name)}
		)  # won, lost or past the sequence's exit stage
