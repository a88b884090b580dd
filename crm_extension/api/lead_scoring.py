"""Lead scoring for the desk and the mobile app: why a lead has its score, its trend, and training."""

import json

import frappe
from frappe import _

from crm_extension.lead_scoring.context import load_context
from crm_extension.lead_scoring.engine.features import feature_row
from crm_extension.lead_scoring.engine.model import explain_lead
from crm_extension.lead_scoring.messages import translated
from crm_extension.lead_scoring.touches import load_touches

MANAGER_ROLES = ("CRM Extension Manager", "Sales Manager", "System Manager")


@frappe.whitelist(methods=["GET", "POST"])
def explain(lead: str) -> dict:
	"""The lead's score, grade and probability with the factors pushing it up and down."""
	frappe.has_permission("Lead", "read", lead, throw=True)
	values = frappe.db.get_value(
		"Lead",
		lead,
		["lead_score", "lead_grade", "conversion_probability", "score_breakdown", "score_updated_on"],
		as_dict=True,
	)
	breakdown = json.loads(values.score_breakdown or "[]")
	return {
		"score": values.lead_score,
		"grade": values.lead_grade,
		"conversion_probability": values.conversion_probability,
		"updated_on": values.score_updated_on,
		"rules": [
			{**item, "text": _rule_text(item)} for item in sorted(breakdown, key=lambda item: -item["points"])
		],
		"model": _model_factors(lead),
	}


@frappe.whitelist(methods=["GET"])
def trend(lead: str) -> list[dict]:
	"""The changes that mattered in the lead's score, oldest first."""
	frappe.has_permission("Lead", "read", lead, throw=True)
	return frappe.get_all(
		"Lead Score Log",
		filters={"lead": lead},
		fields=["scored_on", "score", "conversion_probability", "grade"],
		order_by="scored_on asc",
		limit=500,
	)


@frappe.whitelist(methods=["POST"])
def train() -> dict:
	check_manager()
	from crm_extension.lead_scoring.training import train as train_model

	return train_model()


@frappe.whitelist(methods=["POST"])
def rescore_all() -> None:
	check_manager()
	from crm_extension.lead_scoring.jobs import queue_full_rescore

	queue_full_rescore()


def check_manager():
	if not set(MANAGER_ROLES) & set(frappe.get_roles()):
		frappe.throw(_("Only a CRM Extension Manager or Sales Manager can do this"), frappe.PermissionError)


def _rule_text(item: dict) -> str:
	points = f"{item['points']:+g}"
	return f"{points} {_(item['rule'])}"


def _model_factors(lead: str) -> dict | None:
	context = load_context()
	if not context.model:
		return None
	row = frappe.get_all("Lead", {"name": lead}, context.lead_fields())[0]
	features = feature_row(
		row, load_touches([lead]).get(lead, []), frappe.utils.now_datetime(), context.features
	)
	explanation = explain_lead(context.model, features)
	return {
		direction: [translated(factor.template, factor.params) for factor in getattr(explanation, direction)]
		for direction in ("up", "down", "categories")
	}
