"""A chunk of Leads' CRM Activities, tallied by the database: one ``GROUP BY`` per related DocType.

CRM Activities are most of a busy site's feed (every message a gateway delivers is one), so a nightly
rescore does not fetch them: the database adds up, per document, what each rule needs (``TallyQuery``: the
sum of decay factors, the count and the newest time of the items a rule matches, and the newest contact per
direction set), reading the engagement index alone. An activity has one reference, so per Lead the
tallies of its own activities and of its Contacts' and Opportunities' are simply merged.

Matching is an equality on the index's columns; their collation compares without case, as the engine does.
The index is forced: for a chunk's ``reference_name in (...)`` the planner prefers the narrower
``reference_name`` index and then reads every row (a chunk took 0.5 s instead of 0.02 s).
"""

from datetime import datetime, timedelta

import frappe

from crm_extension.lead_scoring.engine.decay import SECONDS_PER_DAY
from crm_extension.lead_scoring.engine.features import CountGroup, add_counts
from crm_extension.lead_scoring.engine.tallies import LeadTallies, TallyQuery, merged, tallies_from_aggregates
from crm_extension.lead_scoring.touches import (
	LeadSpan,
	Ref,
	names_by_doctype,
	reference_condition,
	stored_datetime,
	to_seconds,
)

MICROSECONDS = "(to_seconds(activity_at) * 1000000 + microsecond(activity_at))"
AGE_SECONDS = "(%(as_of_seconds)s - (to_seconds(activity_at) + microsecond(activity_at) / 1e6))"


def activity_tallies(
	owners: dict[Ref, set[str]], query: TallyQuery, as_of: datetime, span: LeadSpan | None = None
) -> dict[str, LeadTallies]:
	"""Per Lead, the tallies of the CRM Activities about it, its Contacts and its Opportunities (the Leads'
	read as ``span``'s range when given: ``touches.lead_span``)."""
	if not (query.rules or query.contact_directions):
		return {}
	columns, params = _aggregates(query)
	params.update(as_of=as_of, as_of_seconds=to_seconds(as_of))
	pairs: list[tuple[str, LeadTallies]] = []
	for doctype, names in names_by_doctype(owners).items():
		reference, reference_params = reference_condition("reference_name", doctype, names, span)
		rows = frappe.db.sql(
			f"""select reference_name, {columns} from `tabCRM Activity` force index (engagement_index)
			where reference_doctype = %(doctype)s and {reference} and activity_at <= %(as_of)s
			group by reference_name""",
			{**params, **reference_params, "doctype": doctype},
		)
		for reference_name, *values in rows:
			if leads := owners.get((doctype, reference_name)):
				tallies = _tallies(query, values)
				pairs += [(lead, tallies) for lead in leads]
	return merged(pairs)


def activity_window_counts(
	owners: dict[Ref, set[str]],
	cutoff: datetime,
	windows_days: tuple[int, ...],
	span: LeadSpan | None = None,
) -> dict[str, dict[CountGroup, list[int]]]:
	"""Per Lead, its CRM Activities before ``cutoff`` counted per (channel, direction, outcome) within each
	window of days (what the model's count features need): only the last ``max(windows_days)`` days are
	read."""
	if not windows_days:
		return {}
	params = {f"from_{i}": cutoff - timedelta(days=days) for i, days in enumerate(windows_days)}
	params.update(cutoff=cutoff, oldest=cutoff - timedelta(days=max(windows_days)))
	# count(), not sum(): a sum comes back as DECIMAL, which the driver parses into Decimal
	counts = ", ".join(f"count(if(activity_at >= %(from_{i})s, 1, null))" for i in range(len(windows_days)))
	result: dict[str, dict[CountGroup, list[int]]] = {}
	for doctype, names in names_by_doctype(owners).items():
		reference, reference_params = reference_condition("reference_name", doctype, names, span)
		rows = frappe.db.sql(
			f"""select reference_name, channel, direction, nullif(outcome, ''), {counts}
			from `tabCRM Activity` force index (engagement_index)
			where reference_doctype = %(doctype)s and {reference}
				and activity_at < %(cutoff)s and activity_at >= %(oldest)s
			group by reference_name, channel, direction, outcome""",
			{**params, **reference_params, "doctype": doctype},
		)
		for reference_name, channel, direction, outcome, *values in rows:
			for lead in owners.get((doctype, reference_name), ()):
				add_counts(result.setdefault(lead, {}), {(channel, direction, outcome): values})
	return result


def _aggregates(query: TallyQuery) -> tuple[str, dict]:
	"""The select list (three columns per rule, one per contact direction set) and its parameters."""
	columns, params = [], {}
	for number, rule in enumerate(query.rules):
		conditions = ["1"]
		for column in ("channel", "direction", "outcome"):
			if value := getattr(rule, column):
				params[f"r{number}_{column}"] = value.strip()
				conditions.append(f"{column} = %(r{number}_{column})s")
		matches = " and ".join(conditions)
		if rule.half_life_days:
			params[f"r{number}_half_life"] = rule.half_life_days * SECONDS_PER_DAY
			decayed = f"pow(0.5, greatest({AGE_SECONDS}, 0) / %(r{number}_half_life)s)"
		else:
			decayed = "1"
		columns += [
			f"sum(if({matches}, {decayed}, 0))",
			f"count(if({matches}, 1, null))",
			f"max(if({matches}, {MICROSECONDS}, null))",
		]
	for number, directions in enumerate(query.contact_directions):
		params[f"c{number}"] = directions
		columns.append(f"max(if(direction in %(c{number})s, {MICROSECONDS}, null))")
	return ", ".join(columns), params


def _tallies(query: TallyQuery, values: list) -> LeadTallies:
	width = 3 * len(query.rules)
	rules = [
		(values[i], values[i + 1], _datetime(values[i + 2]) if values[i + 1] else None)
		for i in range(0, width, 3)
	]
	return tallies_from_aggregates(query, rules, [_datetime(value) for value in values[width:]])


def _datetime(microseconds: int | None) -> datetime | None:
	if microseconds is None:
		return None
	seconds, fraction = divmod(int(microseconds), 1_000_000)
	return stored_datetime(seconds, fraction)
