"""A chunk of Leads' CRM Activities, tallied by the database: one ``GROUP BY`` per related DocType.

CRM Activities are most of a busy site's feed (every message a gateway delivers is one), so a nightly
rescore does not fetch them: the database adds up, per document, what each rule needs (``TallyQuery``: the
sum of decay factors, the count and the newest time of the items a rule matches, and the newest contact per
direction set), reading the engagement index alone. An activity has one reference, so per Lead the
tallies of its own activities and of its Contacts' and Opportunities' are simply merged.

With a conversion model, the database also adds up its count terms over the widest window the model counts
(``activity_count_terms``: one number per document, ``weight × ln(1 + count)`` summed over the terms, and
the counts per term where the engine must add more before the logarithm: ``scoring.model_logits``).

Matching is an equality on the index's columns; their collation compares without case, as the rules do (the
model's values are a Link and two Selects, stored as their options spell them).
The index is forced: for a chunk's ``reference_name in (...)`` the planner prefers the narrower
``reference_name`` index and then reads every row (a chunk took 0.5 s instead of 0.02 s).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe

from crm_extension.lead_scoring.engine.decay import SECONDS_PER_DAY
from crm_extension.lead_scoring.engine.linear_scorer import CountTerm
from crm_extension.lead_scoring.engine.tallies import LeadTallies, TallyQuery, merged, tallies_from_aggregates
from crm_extension.lead_scoring.touches import (
	LeadSpan,
	Ref,
	names_by_doctype,
	reference_condition,
	stored_datetime,
	to_seconds,
)

COUNTED_COLUMNS = {"channel": "channel", "direction": "direction", "outcome": "outcome"}
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


@dataclass(frozen=True)
class CountedDocument:
	"""A document's CRM Activities in the widest window a model counts: the sum of the model's count terms
	over them (``weight × ln(1 + items counted)``), and the count per term when it was asked for."""

	logit: float
	counts: list[int] | None = None


def activity_count_terms(
	owners: dict[Ref, set[str]],
	cutoff: datetime,
	terms: tuple[CountTerm, ...],
	detailed: set[Ref],
	span: LeadSpan | None = None,
) -> dict[Ref, CountedDocument]:
	"""Per document in ``owners`` with CRM Activities in the widest window before ``cutoff``, what the count
	``terms`` make of them, with the count per term for the documents in ``detailed``. One query per
	DocType: the per-term counts are the aggregates the sum is made of, sent as one text column."""
	if not terms:
		return {}
	counts, params = _term_counts(terms, cutoff)
	columns = [f"c{number}" for number in range(len(terms))]
	for number, term in enumerate(terms):
		params[f"w{number}"] = term.weight
	logit = " + ".join(f"%(w{number})s * ln(1 + {column})" for number, column in enumerate(columns))
	per_term = f"concat_ws(',', {', '.join(columns)})"
	counted = ", ".join(f"{count} as {column}" for count, column in zip(counts, columns, strict=True))
	result: dict[Ref, CountedDocument] = {}
	for doctype, names in names_by_doctype(owners).items():
		reference, reference_params = reference_condition("reference_name", doctype, names, span)
		asked = tuple(name for asked_doctype, name in detailed if asked_doctype == doctype)
		asked_counts = f"if(reference_name in %(asked)s, {per_term}, null)" if asked else "null"
		# counted once in the inner query: MariaDB computes an aggregate that is named twice twice
		rows = frappe.db.sql(
			f"""select reference_name, {logit}, {asked_counts}
			from (
				select reference_name, {counted} from `tabCRM Activity` force index (engagement_index)
				where reference_doctype = %(doctype)s and {reference}
					and activity_at < %(cutoff)s and activity_at >= %(oldest)s
				group by reference_name
			) counted""",
			{**params, **reference_params, "doctype": doctype, "asked": asked},
		)
		for reference_name, document_logit, text in rows:
			if (doctype, reference_name) in owners:
				per_term_counts = [int(count) for count in text.split(",")] if text else None
				result[(doctype, reference_name)] = CountedDocument(document_logit, per_term_counts)
	return result


def _term_counts(terms: tuple[CountTerm, ...], cutoff: datetime) -> tuple[list[str], dict]:
	"""An aggregate per term that counts the activities it counts, and their parameters (with the window
	``activity_count_terms`` reads)."""
	params: dict = {"cutoff": cutoff, "oldest": cutoff - timedelta(days=max(term.days for term in terms))}
	counts = []
	for number, term in enumerate(terms):
		params[f"from_{term.days}"] = cutoff - timedelta(days=term.days)
		counted = f"activity_at >= %(from_{term.days})s"
		if term.dimension:
			params[f"v{number}"] = term.value
			counted += f" and {COUNTED_COLUMNS[term.dimension]} = %(v{number})s"
		counts.append(f"count(if({counted}, 1, null))")
	return counts, params


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
