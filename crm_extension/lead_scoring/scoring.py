"""Scores a chunk of Leads: rule score, conversion probability and grade, written in one pass.

Each chunk is a handful of queries (the Leads, their engagement, their last trend points) and one bulk
update, never a document per Lead. A point joins the score trend (Lead Score Log) only when it matters:
the grade changed or the score or probability moved enough. A Lead whose grade becomes A notifies its owner
and is offered to the host's Assignment Rules (a rule with a condition on `lead_grade` picks it up).
"""

import json
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import now_datetime

from crm_extension.bulk_sql import insert_rows, update_rows
from crm_extension.lead_scoring.context import ScoringContext, load_context
from crm_extension.lead_scoring.engine.decay import age_in_days
from crm_extension.lead_scoring.engine.features import feature_row
from crm_extension.lead_scoring.engine.grade import TrendPoint, announce_grade_a, compare, grade_lead
from crm_extension.lead_scoring.engine.model import predict_probabilities
from crm_extension.lead_scoring.engine.rules import RuleScore, score_lead
from crm_extension.lead_scoring.touches import load_touches


def score_leads(
	leads: list[str], as_of: datetime | None = None, context: ScoringContext | None = None
) -> int:
	"""Score and store the given Leads; returns how many were scored."""
	context = context or load_context()
	as_of = as_of or now_datetime()
	rows = frappe.get_all("Lead", filters={"name": ("in", leads)}, fields=context.lead_fields())
	if not rows:
		return 0
	names = [row.name for row in rows]
	touches = load_touches(names)
	probabilities = _probabilities(context, rows, touches, as_of)
	previous = last_trend_points(names)
	updates, trend, promoted = {}, [], []
	for row in rows:
		result = score_lead(row, touches.get(row.name, []), context.rules, as_of)
		probability = probabilities.get(row.name)
		point = TrendPoint(
			as_of, result.score, grade_lead(result.score, probability, context.thresholds), probability
		)
		updates[row.name] = _stored_values(result, point)
		if compare(previous.get(row.name), point, context.trend).matters:
			trend.append(_trend_row(row.name, point))
		if announce_grade_a(row.lead_grade, point.grade, age_in_days(row.creation, as_of)):
			promoted.append(row)
	update_rows("Lead", STORED_FIELDS, [(name, *values) for name, values in updates.items()])
	_insert_trend(trend)
	for row in promoted:
		on_grade_a(row, context)
	return len(rows)


def last_trend_points(leads: list[str]) -> dict[str, TrendPoint]:
	rows = frappe.db.sql(
		"""select log.lead, log.scored_on, log.score, log.conversion_probability, log.grade
		from `tabLead Score Log` log
		join (select lead, max(scored_on) as scored_on from `tabLead Score Log`
			where lead in %(leads)s group by lead) latest
			on latest.lead = log.lead and latest.scored_on = log.scored_on""",
		{"leads": tuple(leads)},
		as_dict=True,
	)
	return {
		row.lead: TrendPoint(
			row.scored_on,
			row.score or 0.0,
			row.grade or "",
			read_probability(row.conversion_probability),
		)
		for row in rows
	}


def on_grade_a(lead, context: ScoringContext):
	from frappe.automation.doctype.assignment_rule.assignment_rule import apply
	from frappe.desk.doctype.notification_log.notification_log import enqueue_create_notification

	owner = lead.lead_owner or lead.owner
	if context.notify_on_grade_a and owner and owner != "Administrator":
		enqueue_create_notification(
			owner,
			{
				"type": "Alert",
				"document_type": "Lead",
				"document_name": lead.name,
				"subject": _("Lead {0} reached grade A: call it today").format(
					frappe.bold(lead.lead_name or lead.name)
				),
				"from_user": "Administrator",
			},
		)
	apply(doc=frappe.get_doc("Lead", lead.name))


def _probabilities(context: ScoringContext, rows, touches, as_of) -> dict[str, float]:
	if not context.model:
		return {}
	features = [
		feature_row(row, touches.get(row.name, []), as_of + timedelta(seconds=1), context.features)
		for row in rows
	]
	predicted = predict_probabilities(context.model, features)
	return {row.name: float(probability) for row, probability in zip(rows, predicted, strict=True)}


STORED_FIELDS = (
	"name",
	"lead_score",
	"lead_grade",
	"conversion_probability",
	"score_breakdown",
	"score_updated_on",
)


def _stored_values(result: RuleScore, point: TrendPoint) -> tuple:
	"""``STORED_FIELDS`` after the name."""
	breakdown = [
		{
			"rule": contribution.label,
			"points": round(contribution.points, 2),
			"items": contribution.matched_items,
			"latest_at": contribution.latest_at,
		}
		for contribution in result.breakdown
	]
	return (
		result.score,
		point.grade,
		stored_probability(point.probability),
		json.dumps(breakdown, default=str),
		point.at,
	)


def stored_probability(probability: float | None) -> float:
	"""Percent columns cannot be empty: 0 stands for "no model". A calibrated model never says exactly 0."""
	return 0.0 if probability is None else max(round(probability * 100, 2), 0.01)


def read_probability(percent: float | None) -> float | None:
	return percent / 100 if percent else None


TREND_FIELDS = (
	"name",
	"lead",
	"scored_on",
	"score",
	"conversion_probability",
	"grade",
	"owner",
	"modified_by",
	"creation",
	"modified",
)


def _trend_row(lead: str, point: TrendPoint) -> tuple:
	"""``TREND_FIELDS`` up to the grade."""
	return (
		frappe.generate_hash(length=12),
		lead,
		point.at,
		point.score,
		stored_probability(point.probability),
		point.grade,
	)


def _insert_trend(rows: list[tuple]):
	now, user = now_datetime(), frappe.session.user
	insert_rows("Lead Score Log", TREND_FIELDS, [(*row, user, user, now, now) for row in rows])
