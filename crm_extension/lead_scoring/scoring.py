"""Scores a chunk of Leads: rule score, conversion probability and grade, written in one pass.

Each chunk is a handful of queries (the Leads with their kept trend points, their engagement) and a bulk
update, never a document per Lead. Only Leads whose score, grade, probability or breakdown changed are
written (and get a new ``score_updated_on``): most Leads of a nightly run are dormant and stay as they are.
A score joins the trend only when it matters against the last point kept: the grade changed or the score
or probability moved enough. The Lead holds its latest kept point (``trend_*`` fields, set from the stored
values in the same update); the point it replaces moves to Lead Score Log. So comparing reads no log, and a
Lead's first score writes none. A Lead whose grade becomes A notifies its owner and is offered to the host's
Assignment Rules (a rule with a condition on `lead_grade` picks it up): ``grade_a``, once per chunk.

A chunk's engagement comes as tallies (``engine/tallies``): its CRM Activities tallied by the database
(``activity_tallies``), the host's emails, calls and meetings read as items and tallied by the engine.
"""

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache

import frappe
from frappe.utils import get_timedelta, now_datetime

from crm_extension.bulk_sql import insert_rows, update_rows, wide_rows
from crm_extension.lead_scoring import grade_a
from crm_extension.lead_scoring.activity_tallies import activity_count_terms, activity_tallies
from crm_extension.lead_scoring.context import ScoringContext, load_context
from crm_extension.lead_scoring.engine.decay import age_in_days
from crm_extension.lead_scoring.engine.features import (
	FeatureSettings,
	known_within,
)
from crm_extension.lead_scoring.engine.grade import TrendPoint, announce_grade_a, compare, grade_lead
from crm_extension.lead_scoring.engine.linear_scorer import LinearScorer, probability
from crm_extension.lead_scoring.engine.rules import (
	Contribution,
	Rule,
	RuleScore,
	rules_tally_query,
	score_tallies,
	tally_feed,
)
from crm_extension.lead_scoring.engine.tallies import LeadTallies, contact_directions, merged
from crm_extension.lead_scoring.touches import (
	LeadSpan,
	Ref,
	host_touches,
	reference_condition,
	related_documents,
	stored_datetime,
)
from crm_extension.sequences import triggers as sequence_triggers


def score_leads(
	leads: list[str],
	as_of: datetime | None = None,
	context: ScoringContext | None = None,
	span: LeadSpan | None = None,
) -> int:
	"""Score and store the given Leads; returns how many were scored. ``span``: the Leads' span
	(``touches.lead_span``), to read their rows as ranges."""
	context = context or load_context()
	as_of = as_of or now_datetime()
	rows = lead_rows(leads, fields_read(context), span)
	if not rows:
		return 0
	changed = list(changed_scores(rows, context, as_of, span))
	reached_a = store(changed, context, as_of)
	grade_a.announce(reached_a, context.notify_on_grade_a)
	sequence_triggers.on_grades(
		[(row.name, point.grade) for row, point, _values in changed if point.grade != row.lead_grade]
	)
	return len(rows)


def changed_scores(
	rows: list[frappe._dict], context: ScoringContext, as_of: datetime, span: LeadSpan | None = None
):
	"""(row, trend point, values to store) of each Lead whose stored values the scoring changes."""
	owners = related_documents([row.name for row in rows], span)
	host_items = host_touches(owners, span)
	tallies = feed_tallies(
		owners, host_items, context.rules, as_of, with_last_contact=bool(context.scorer), span=span
	)
	probabilities = _probabilities(context, rows, owners, host_items, tallies, as_of, span)
	for row in rows:
		result = score_tallies(row, tallies.get(row.name) or LeadTallies(), context.rules, as_of)
		probability = probabilities.get(row.name)
		grade = grade_lead(result.score, probability, context.thresholds)
		point = TrendPoint(as_of, result.score, grade, probability)
		values = _stored_values(result, point)
		if values != tuple(row[field] for field in STORED_FIELDS[1:]):
			yield row, point, values


def store(changed: list[tuple], context: ScoringContext, as_of: datetime) -> list[str]:
	"""Write the changed Leads; a change that matters becomes the Lead's kept trend point and the point it
	replaces joins the log. Returns the Leads that reached grade A.

	Unchanged Leads need neither: their values were compared with the trend when they were computed."""
	moved, stayed, replaced = [], [], []
	for row, point, values in changed:
		kept = kept_point(row)
		if compare(kept, point, context.trend).matters:
			moved.append((row.name, *values))
			if kept:
				replaced.append(_trend_row(row.name, kept))
		else:
			stayed.append((row.name, *values))
	stamp = {"score_updated_on": as_of}
	update_rows("Lead", STORED_FIELDS, stayed, stamp)
	update_rows("Lead", STORED_FIELDS, moved, {**stamp, "trend_since": as_of}, KEPT_POINT_COPIES)
	_insert_trend(replaced)
	return [
		row.name
		for row, point, _values in changed
		if announce_grade_a(row.lead_grade, point.grade, age_in_days(row.creation, as_of))
	]


def fields_read(context: ScoringContext) -> list[str]:
	"""The Lead columns scoring reads: what the rules and the model need, the stored results and the kept
	trend point."""
	return sorted({*context.lead_fields(), *STORED_FIELDS, *KEPT_POINT_FIELDS})


def lead_rows(leads: list[str], fields: list[str], span: LeadSpan | None = None) -> list[frappe._dict]:
	"""The Leads' ``fields`` (column names checked against the Lead's meta; ``name`` among them) as the
	driver would give them, each row sent as one JSON array (``bulk_sql.wide_rows``): DATETIME columns read
	as seconds and microseconds, which JSON keeps as numbers, and DATE and TIME columns turned back from
	text."""
	if not leads:
		return []
	times, from_text = _time_columns(fields)
	others = [field for field in fields if field not in times]
	columns = [f"to_seconds(`{field}`), microsecond(`{field}`)" for field in times]
	columns += [f"`{field}`" for field in others]
	condition, params = reference_condition("name", "Lead", leads, span)
	rows = wide_rows(columns, f"from `tabLead` where {condition}", params)
	width = 2 * len(times)
	if span:  # the range also holds Leads that are not these
		wanted, name_at = set(leads), width + others.index("name")
		rows = [row for row in rows if row[name_at] in wanted]
	return [_lead_row(times, others, from_text, values, width) for values in rows]


def _time_columns(fields: list[str]) -> tuple[list[str], dict[str, Callable]]:
	"""Which of the Lead's ``fields`` are DATETIME columns, and how to read the DATE and TIME columns' text."""
	meta = frappe.get_meta("Lead")
	fieldtypes = {field: (meta.get_field(field) or frappe._dict()).fieldtype for field in fields}
	times = [field for field in fields if field in STANDARD_TIME_FIELDS or fieldtypes[field] == "Datetime"]
	from_text = {field: FROM_TEXT[fieldtypes[field]] for field in fields if fieldtypes[field] in FROM_TEXT}
	return times, from_text


FROM_TEXT = {"Date": date.fromisoformat, "Time": get_timedelta}


def _lead_row(
	times: list[str], others: list[str], from_text: dict[str, Callable], values: list, width: int
) -> frappe._dict:
	row = frappe._dict(zip(others, values[width:], strict=True))
	for field, seconds, microseconds in zip(times, values[0:width:2], values[1:width:2], strict=True):
		row[field] = None if seconds is None else stored_datetime(seconds, microseconds)
	for field, read in from_text.items():
		row[field] = None if row[field] is None else read(row[field])
	return row


def kept_point(row: frappe._dict) -> TrendPoint | None:
	"""The Lead's latest kept trend point; None before its first scoring."""
	if not row.trend_grade:
		return None
	return TrendPoint(
		row.trend_since, row.trend_score or 0.0, row.trend_grade, read_probability(row.trend_probability)
	)


def feed_tallies(
	owners: dict[Ref, set[str]],
	host_items: dict[str, list[dict]],
	rules: tuple[Rule, ...],
	as_of: datetime,
	with_last_contact: bool = False,
	span: LeadSpan | None = None,
) -> dict[str, LeadTallies]:
	"""Per Lead, what its feed adds up to for ``rules``: CRM Activities tallied by the database, the host's
	emails, calls and meetings (``host_items``: fewer, and de-duplicated across documents) by the engine."""
	query = rules_tally_query(rules, with_last_contact)
	host = {lead: tally_feed(items, rules, as_of, query) for lead, items in host_items.items()}
	activities = activity_tallies(owners, query, as_of, span)
	return merged([*activities.items(), *host.items()])


def _probabilities(
	context: ScoringContext, rows, owners, host_items, tallies, as_of, span: LeadSpan | None = None
) -> dict[str, float]:
	if not context.scorer:
		return {}
	cutoff = as_of + timedelta(seconds=1)  # a row counts what is known before its cutoff: at as_of too
	logits = model_logits(rows, owners, host_items, tallies, cutoff, context.features, context.scorer, span)
	return {name: probability(logit) for name, logit in logits.items()}


def model_logits(
	rows,
	owners: dict[Ref, set[str]],
	host_items: dict[str, list[dict]],
	tallies: dict[str, LeadTallies],
	cutoff: datetime,
	settings: FeatureSettings,
	scorer: LinearScorer,
	span: LeadSpan | None = None,
) -> dict[str, float]:
	"""Each Lead's log-odds as known before ``cutoff``: what ``scorer.logit(feature_row(...))`` gives,
	without reading its feed items. The database sums the count terms per document; that sum is the Lead's
	when its CRM Activities are all about it. A Lead with Contacts or Opportunities, or with host items
	(emails, calls, meetings) in the window, gets the counts per term instead, added up with the host's
	before the logarithm. The last contact comes from ``tallies`` (made ``with_last_contact``)."""
	terms = scorer.count_terms
	widest = max(settings.windows_days, default=0)
	host = {lead: mine for lead, items in host_items.items() if (mine := known_within(items, cutoff, widest))}
	documents: dict[str, list[Ref]] = defaultdict(list)
	for document, leads in owners.items():
		for lead in leads:
			documents[lead].append(document)
	detailed = {lead for lead, of in documents.items() if len(of) > 1} | set(host)
	counted = activity_count_terms(owners, cutoff, terms, _documents_of(documents, detailed), span)
	fields = scorer.field_terms(settings)
	logits = {}
	for row in rows:
		mine = [counted[document] for document in documents.get(row.name, ()) if document in counted]
		if row.name in detailed:
			counts = scorer.summed_counts([doc.counts for doc in mine], host.get(row.name, ()), cutoff)
			counts_logit = scorer.counts_logit(counts)
		else:
			counts_logit = mine[0].logit if mine else 0.0
		last = tallies[row.name].contacts.get(contact_directions(None)) if row.name in tallies else None
		logits[row.name] = scorer.lead_logit(fields, row, counts_logit, last, cutoff, settings)
	return logits


def _documents_of(documents: dict[str, list[Ref]], leads: set[str]) -> set[Ref]:
	return {document for lead in leads for document in documents.get(lead, ())}


STORED_FIELDS = (
	"name",
	"lead_score",
	"lead_grade",
	"conversion_probability",
	"score_breakdown",
)
KEPT_POINT_FIELDS = ("trend_score", "trend_grade", "trend_probability", "trend_since")
KEPT_POINT_COPIES = {
	"trend_score": "lead_score",
	"trend_grade": "lead_grade",
	"trend_probability": "conversion_probability",
}
STANDARD_TIME_FIELDS = ("creation", "modified")


def _stored_values(result: RuleScore, point: TrendPoint) -> tuple:
	"""``STORED_FIELDS`` after the name."""
	breakdown = "[" + ",".join([_breakdown_entry(c) for c in result.breakdown]) + "]"
	return (result.score, point.grade, stored_probability(point.probability), breakdown)


def _breakdown_entry(contribution: Contribution) -> str:
	"""A rule's points as a JSON object, with how many feed items gave them and the newest one's time (to the
	second) when items did. A full rescore writes every open Lead's breakdown: it stays short, and is written
	as text (what ``json.dumps`` with no spaces gives, in half the time)."""
	text = _breakdown_head(contribution.label) + repr(round(contribution.points, 2))
	if contribution.matched_items:
		text += f',"items":{int(contribution.matched_items)}'
	if contribution.latest_at is not None:
		text += f',"latest_at":"{contribution.latest_at.replace(microsecond=0)}"'
	return text + "}"


@lru_cache(maxsize=1024)
def _breakdown_head(label: str) -> str:
	return '{"rule":' + json.dumps(label) + ',"points":'


# A tenth of a percent is finer than a calibrated probability means, and a nightly run then rewrites fewer
# Leads whose probability only drifted.
PERCENT_DECIMALS = 1


def stored_probability(probability: float | None) -> float:
	"""Percent columns cannot be empty: 0 stands for "no model". A calibrated model never says exactly 0."""
	if probability is None:
		return 0.0
	return max(round(probability * 100, PERCENT_DECIMALS), 10.0**-PERCENT_DECIMALS)


def read_probability(percent: float | None) -> float | None:
	return percent / 100 if percent else None


TREND_FIELDS = ("name", "lead", "scored_on", "score", "conversion_probability", "grade")


def _trend_row(lead: str, point: TrendPoint) -> tuple:
	"""``TREND_FIELDS``' values."""
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
	same_for_all = {"owner": user, "modified_by": user, "creation": now, "modified": now}
	insert_rows("Lead Score Log", TREND_FIELDS, rows, same_for_all)
