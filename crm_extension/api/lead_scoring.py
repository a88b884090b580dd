"""Lead scoring for the desk and the mobile app: why a lead has its score, its trend, and training."""

import json

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime, pretty_date

from crm_extension.api.errors import check_exists
from crm_extension.lead_scoring.context import SETTINGS, load_context, stored_model
from crm_extension.lead_scoring.engine.features import feature_row
from crm_extension.lead_scoring.engine.model import explain_lead
from crm_extension.lead_scoring.messages import translated
from crm_extension.lead_scoring.touches import load_touches

MANAGER_ROLES = ("CRM Extension Manager", "System Manager")
# the Lead's kept trend point, named as Lead Score Log names a point
KEPT_POINT_ALIASES = {
	"trend_since": "scored_on",
	"trend_score": "score",
	"trend_probability": "conversion_probability",
	"trend_grade": "grade",
}


@frappe.whitelist(methods=["GET", "POST"])
def explain(lead: str) -> dict:
	"""The lead's score, grade and probability, the rule points behind the score and, when a model is
	trained, the factors pushing the lead up and down."""
	check_exists("Lead", lead)
	frappe.has_permission("Lead", "read", lead, throw=True)
	values = frappe.db.get_value(
		"Lead",
		lead,
		["lead_score", "lead_grade", "conversion_probability", "score_breakdown", "score_updated_on"],
		as_dict=True,
	)
	breakdown = sorted(json.loads(values.score_breakdown or "[]"), key=lambda item: -item["points"])
	return {
		"lead_score": values.lead_score,
		"lead_grade": values.lead_grade,
		"conversion_probability": values.conversion_probability or None,
		"updated_on": values.score_updated_on,
		"factors": [
			{"label": _(item["rule"]), "points": item["points"], "text": _rule_text(item)}
			for item in breakdown
		],
		"model": _model_explanation(lead),
	}


@frappe.whitelist(methods=["GET", "POST"])
def hot_leads(limit: int = 20) -> list[dict]:
	"""The current user's best open leads (theirs or assigned to them, and readable): grade, score,
	probability, preferred channel and when the lead was last in touch."""
	user = frappe.session.user
	leads = frappe.get_list(
		"Lead",
		filters={"status": ("not in", ("Converted", "Do Not Contact")), "lead_grade": ("is", "set")},
		or_filters={"lead_owner": user, "_assign": ("like", f"%{user}%")},
		fields=[
			"name",
			"lead_name",
			"company_name",
			"lead_grade",
			"lead_score",
			"conversion_probability",
			"preferred_channel",
		],
		order_by="lead_grade asc, conversion_probability desc, lead_score desc",
		limit_page_length=min(max(int(limit), 1), 100),
	)
	last_touch = {
		lead: max(item["at"] for item in items)
		for lead, items in load_touches([lead.name for lead in leads]).items()
		if items
	}
	for lead in leads:
		lead["conversion_probability"] = lead.conversion_probability or None
		lead["last_activity_at"] = last_touch.get(lead.name)
	return leads


@frappe.whitelist(methods=["GET", "POST"])
def trend(lead: str) -> list[dict]:
	"""The changes that mattered in the lead's score, oldest first: the logged ones, then the latest, which the
	Lead keeps."""
	check_exists("Lead", lead)
	frappe.has_permission("Lead", "read", lead, throw=True)
	logged = frappe.get_all(
		"Lead Score Log",
		filters={"lead": lead},
		fields=["scored_on", "score", "conversion_probability", "grade"],
		order_by="scored_on asc",
		limit=500,
	)
	latest = frappe.db.get_value(
		"Lead",
		lead,
		[f"{field} as {alias}" for field, alias in KEPT_POINT_ALIASES.items()],
		as_dict=True,
	)
	return [*logged, latest] if latest and latest.grade else logged


@frappe.whitelist(methods=["POST"])
def train() -> dict:
	"""Queue training of the conversion model on the long queue (CRM Extension Manager or System Manager);
	returns ``{"job_id"}``. Progress shows in the desk; a second request while it runs is a no-op."""
	check_manager()
	from crm_extension.lead_scoring.jobs import queue_training

	return {"job_id": queue_training()}


@frappe.whitelist(methods=["POST"])
def rescore_all() -> str:
	"""Queue a full rescore of all open leads; returns the job id (progress shows in the desk)."""
	check_manager()
	from crm_extension.lead_scoring.jobs import queue_full_rescore

	return queue_full_rescore(after_commit=False)


def check_manager():
	if not set(MANAGER_ROLES) & set(frappe.get_roles()):
		frappe.throw(_("Only a CRM Extension Manager or System Manager can do this"), frappe.PermissionError)


def _rule_text(item: dict) -> str:
	"""'+18 Replied on WhatsApp (2 days ago)'."""
	text = f"{item['points']:+g} {_(item['rule'])}"
	# get_datetime: pretty_date parses text only with microseconds, and the breakdown keeps whole seconds
	return f"{text} ({pretty_date(get_datetime(item['latest_at']))})" if item.get("latest_at") else text


def _model_explanation(lead: str) -> dict | None:
	context = load_context()
	model = stored_model(frappe.get_cached_doc(SETTINGS)) if context.scorer else None
	if not model:
		return None
	row = frappe.get_all("Lead", {"name": lead}, context.lead_fields())[0]
	features = feature_row(row, load_touches([lead]).get(lead, []), now_datetime(), context.features)
	explanation = explain_lead(model, features)
	return {
		"version": model.version,
		"auc": model.quality.auc if model.quality else None,
		"trained_on": model.trained_on,
		**{
			direction: [
				translated(factor.template, factor.params) for factor in getattr(explanation, direction)
			]
			for direction in ("up", "down", "categories")
		},
	}
