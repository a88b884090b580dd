"""A chunk of Leads' CRM Activities, tallied by the database: one ``GROUP BY`` per related DocType.

CRM Activities are most of a busy site's feed (every message a gateway delivers is one), so a nightly
rescore does not fetch them: the database adds up, per document, what each rule needs (``TallyQuery``: the
sum of decay factors, the count and the newest time of the items a rule matches, and the newest contact per
direction set), reading the engagement index alone. An activity has one reference, so per Lead the
tallies of its own activities and of its Contacts' and Opportunities' are simply merged.

With a conversion model, the database also adds up its count terms over the widest window the model counts
(``activity_count_terms``: one number per document, ``weight × ln(1 + count)`` summed over the terms, and
the counts per term where the engine must add more before the logarithm: ``scoring.model_logits``). An
aggregate costs MariaDB about the same per row whatever it computes, so the counts of one value's windows
(7, 30 and 90 days) share one: a sum of bit fields, one per window (``_packed_counts``).

Matching is an equality on the index's columns; their collation compares without case, as the rules do (the
model's values are a Link and two Selects, stored as their options spell them).
The index is forced: for a chunk's ``reference_name in (...)`` the planner prefers the narrower
``reference_name`` index and then reads every row (a chunk took 0.5 s instead of 0.02 s).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe

from crm_extension.bulk_sql import wide_rows
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
MAX_FIELD_BITS = 21  # a packed count of up to 2,097,151 activities per window


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
		rows = wide_rows(
			["reference_name", *columns],
			f"""from `tabCRM Activity` force index (engagement_index)
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
	``terms`` make of them, with the count per term for the documents in ``detailed`` (sent as one text
	column). One query per DocType, counting each value's windows in one packed aggregate; the rare document
	with more activities than a packed count holds is counted again, term by term."""
	if not terms:
		return {}
	params = _window_params(terms, cutoff)
	packed_counts, packed_per_term, packed_params = _packed_counts(terms)
	exact_counts, exact_per_term, exact_params = _exact_counts(terms)
	params.update({**packed_params, **exact_params})
	params.update({f"w{number}": term.weight for number, term in enumerate(terms)})
	largest = _largest_packed_count(terms)
	result: dict[Ref, CountedDocument] = {}
	for doctype, names in names_by_doctype(owners).items():
		asked = tuple(name for asked_doctype, name in detailed if asked_doctype == doctype)
		reference, reference_params = reference_condition("reference_name", doctype, names, span)
		values = {**params, **reference_params, "doctype": doctype, "asked": asked}
		rows = frappe.db.sql(_count_statement(packed_counts, packed_per_term, reference, asked), values)
		if too_many := tuple(row[0] for row in rows if row[3] > largest):
			statement = _count_statement(
				exact_counts, exact_per_term, "reference_name in %(too_many)s", asked
			)
			rows = [row for row in rows if row[0] not in too_many]
			rows += frappe.db.sql(statement, {**values, "too_many": too_many})
		for reference_name, document_logit, text, _items in rows:
			if (doctype, reference_name) in owners:
				per_term_counts = [int(count) for count in text.split(",")] if text else None
				result[(doctype, reference_name)] = CountedDocument(document_logit, per_term_counts)
	return result


def _count_statement(counts: list[str], per_term: list[str], reference: str, asked: tuple) -> str:
	"""Per document: the sum of the terms, their counts as text for the ``asked`` documents, and how many
	activities it has in the window. ``counts`` are the aggregates, named, and ``per_term`` each term's count
	read from them: counted once in the inner query, as MariaDB computes an aggregate named twice twice."""
	logit = " + ".join(f"%(w{number})s * ln(1 + {count})" for number, count in enumerate(per_term))
	text = (
		f"if(reference_name in %(asked)s, concat_ws(',', {', '.join(per_term)}), null)" if asked else "null"
	)
	return f"""select reference_name, {logit}, {text}, items
		from (
			select reference_name, count(*) as items, {", ".join(counts)}
			from `tabCRM Activity` force index (engagement_index)
			where reference_doctype = %(doctype)s and {reference}
				and activity_at < %(cutoff)s and activity_at >= %(oldest)s
			group by reference_name
		) counted"""


def _packed_counts(terms: tuple[CountTerm, ...]) -> tuple[list[str], list[str], dict]:
	"""One aggregate per counted value (``channel = 'Email'``, or every activity): the sum, over its
	activities, of a number holding a 1 in the field of each window the activity lies in. So the field of a
	window adds up to its count, as long as no count outgrows its field (``_largest_packed_count``).
	Returns the aggregates, each term's count taken out of its field, and the parameters."""
	bits = _field_bits(terms)
	widest = max(term.days for term in terms)
	counts, per_term, params = [], [""] * len(terms), {}
	for number, ((dimension, value), numbers) in enumerate(_terms_by_value(terms).items()):
		fields = []
		for position, term_number in enumerate(numbers):
			days, shift = terms[term_number].days, position * bits
			in_window = "1" if days == widest else f"(activity_at >= %(from_{days})s)"
			fields.append(f"{in_window} * {1 << shift}")
			per_term[term_number] = f"((p{number} >> {shift}) & {(1 << bits) - 1})"
		packed = " + ".join(fields)
		if dimension:
			params[f"pv{number}"] = value
			packed = f"if({COUNTED_COLUMNS[dimension]} = %(pv{number})s, {packed}, 0)"
		counts.append(f"cast(sum({packed}) as unsigned) as p{number}")
	return counts, per_term, params


def _exact_counts(terms: tuple[CountTerm, ...]) -> tuple[list[str], list[str], dict]:
	"""An aggregate per term that counts the activities it counts, each term's count, and the parameters."""
	counts, params = [], {}
	for number, term in enumerate(terms):
		counted = f"activity_at >= %(from_{term.days})s"
		if term.dimension:
			params[f"v{number}"] = term.value
			counted += f" and {COUNTED_COLUMNS[term.dimension]} = %(v{number})s"
		counts.append(f"count(if({counted}, 1, null)) as c{number}")
	return counts, [f"c{number}" for number in range(len(terms))], params


def _terms_by_value(terms: tuple[CountTerm, ...]) -> dict[tuple[str | None, str | None], list[int]]:
	by_value: dict[tuple[str | None, str | None], list[int]] = {}
	for number, term in enumerate(terms):
		by_value.setdefault((term.dimension, term.value), []).append(number)
	return by_value


def _field_bits(terms: tuple[CountTerm, ...]) -> int:
	"""The width of a window's field: the windows of one value share the 63 bits of a signed BIGINT."""
	windows = max(len(numbers) for numbers in _terms_by_value(terms).values())
	return min(MAX_FIELD_BITS, 63 // windows)


def _largest_packed_count(terms: tuple[CountTerm, ...]) -> int:
	return (1 << _field_bits(terms)) - 1


def _window_params(terms: tuple[CountTerm, ...], cutoff: datetime) -> dict:
	"""The window ``activity_count_terms`` reads (``oldest`` to ``cutoff``) and where each term's starts."""
	params: dict = {"cutoff": cutoff, "oldest": cutoff - timedelta(days=max(term.days for term in terms))}
	params.update({f"from_{term.days}": cutoff - timedelta(days=term.days) for term in terms})
	return params


def _aggregates(query: TallyQuery) -> tuple[list[str], dict]:
	"""The aggregates to select (three per rule, one per contact direction set) and their parameters."""
	columns, params = [], {}
	for number, rule in enumerate(query.rules):
		conditions = ["1"]
		for column in ("channel", "direction", "outcome"):
			if value := getattr(rule, column):
				params[f"r{number}_{column}"] = value.strip()
				conditions.append(f"{column} = %(r{number}_{column})s")
		if rule.within_days:
			params[f"r{number}_window"] = rule.within_days * SECONDS_PER_DAY
			conditions.append(f"{AGE_SECONDS} <= %(r{number}_window)s")
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
	return columns, params


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
