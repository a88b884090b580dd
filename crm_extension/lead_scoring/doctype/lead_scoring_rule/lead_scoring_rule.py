import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.lead_scoring.context import rule_mapping
from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.rules import check_fit_rule_fields, rule_from_mapping
from crm_extension.lead_scoring.messages import translated


class LeadScoringRule(Document):
	def validate(self):
		try:
			rule = rule_from_mapping(rule_mapping(self.as_dict()))
			check_fit_rule_fields(rule, lead_fieldtypes())
		except LeadScoringError as error:
			frappe.throw(translated(error.template, error.params), title=_("Invalid Rule"))

	def on_update(self):
		queue_rescore_after_rule_change()

	def on_trash(self):
		queue_rescore_after_rule_change()


def lead_fieldtypes() -> dict[str, str]:
	return {df.fieldname: df.fieldtype for df in frappe.get_meta("Lead").fields}


@frappe.whitelist()
def scorable_lead_fields() -> list[dict]:
	"""Lead fields a fit rule can look at, for the form's field picker."""
	skipped = {"Section Break", "Column Break", "Tab Break", "HTML", "Table", "Button", "Attach Image"}
	return [
		{"value": df.fieldname, "label": _(df.label)}
		for df in frappe.get_meta("Lead").fields
		if df.fieldtype not in skipped and df.label
	]


def queue_rescore_after_rule_change():
	from crm_extension.lead_scoring.jobs import queue_full_rescore

	queue_full_rescore()
