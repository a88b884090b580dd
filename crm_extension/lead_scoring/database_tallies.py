"""A chunk of Leads' CRM Activities and emails, tallied by the database instead of fetched.

CRM Activities and emails (Communication) are most of a busy site's feed, so a nightly rescore does not read
them item by item: the database adds up what each rule needs (``TallyQuery``: the sum of decay factors, the
count and the newest time of the items a rule matches, and the newest contact per direction set) and, with a
model, the items per channel, direction and outcome in each recent window.

- CRM Activities: one ``GROUP BY reference_name`` per related DocType over the engagement index alone. An
  activity has one reference, so a Lead merges the tallies of its own, its Contacts' and its Opportunities'.
  The index is forced: for a chunk's ``reference_name in (...)`` the planner prefers the narrower
  ``reference_name`` index and then reads every row (a chunk took 0.5 s instead of 0.02 s).
- Emails: one ``GROUP BY`` Lead per chunk. An email can reach a Lead through two of its documents (about the
  Lead and linked to its Contact), so the (Lead, email) pairs are made distinct first. Medium and
  sent/received become the feed's channel and direction with the activity log's own mapping tables.

Rules match by equality; the columns' collation compares without case, as the engine does.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe

from crm_extension.activity_log.engine.feed import (
	COMMUNICATION_MEDIUM_CHANNELS,
	INTERNAL,
	SENT_OR_RECEIVED_DIRECTIONS,
	UNKNOWN_MEDIUM_CHANNEL,
)
from crm_extension.lead_scoring.engine.decay import SECONDS_PER_DAY
from crm_extension.lead_scoring.engine.features import CountGroup, add_counts
from crm_extension.lead_scoring.engine.tallies import LeadTallies, TallyQuery, merged, tallies_from_aggregates
from crm_extension.lead_scoring.touches import (
	DOCUMENTS_OF_LEADS,
	KEPT_COMMUNICATIONS,
	Ref,
	names_by_doctype,
	stored_datetime,
	to_seconds,
)


@dataclass(frozen=True)
class FeedColumns:
	"""SQL expressions of a source's channel, direction, outcome and time, in the feed's vocabulary."""

	channel: str
	direction: str
	outcome: str
	at: str


ACTIVITY = FeedColumns("channel", "direction", "nullif(outcome, '')", "activity_at")


def _case(column: str, mapping: dict[str, str], default: str, prefix: str) -> tuple[str, dict]:
	"""``column`` mapped like ``mapping.get(column or "", default)`` (compared as bytes, as a dict does)."""
	params = {f"{prefix}_default": default}
	branches = []
	for number, (key, value) in enumerate(mapping.items()):
		params.update({f"{prefix}_key{number}": key, f"{prefix}_value{number}": value})
		branches.append(f"when %({prefix}_key{number})s then %({prefix}_value{number})s")
	return f"(case binary coalesce({column}, '') {' '.join(branches)} else %({prefix}_default)s end)", params


EMAIL_CHANNEL, EMAIL_CHANNEL_PARAMS = _case(
	"c.communication_medium",
	{medium: channel for medium, (channel, _type) in COMMUNICATION_MEDIUM_CHANNELS.items()},
	UNKNOWN_MEDIUM_CHANNEL[0],
	"email_channel",
)
EMAIL_DIRECTION, EMAIL_DIRECTION_PARAMS = _case(
	"c.sent_or_received", SENT_OR_RECEIVED_DIRECTIONS, INTERNAL, "email_direction"
)
EMAIL = FeedColumns(EMAIL_CHANNEL, EMAIL_DIRECTION, "null", "c.communication_date")

# (Lead, email) pairs of a chunk, each once: about one of the Lead's documents or linked to one.
EMAILS_OF_LEADS = f"""
	select documents.lead, c.name as communication
	from ({DOCUMENTS_OF_LEADS}) documents
	join `tabCommunication` c on c.reference_doctype = documents.doctype and c.reference_name = documents.docname
	union
	select documents.lead, link.parent
	from ({DOCUMENTS_OF_LEADS}) documents
	join `tabCommunication Link` link
		on link.link_doctype = documents.doctype and link.link_name = documents.docname"""


def activity_tallies(
	owners: dict[Ref, set[str]], query: TallyQuery, as_of: datetime
) -> dict[str, LeadTallies]:
	"""Per Lead, the tallies of the CRM Activities about it, its Contacts and its Opportunities."""
	if not (query.rules or query.contact_directions):
		return {}
	columns, params = _aggregates(query, ACTIVITY)
	pairs: list[tuple[str, LeadTallies]] = []
	for doctype, names in names_by_doctype(owners).items():
		rows = frappe.db.sql(
			f"""select reference_name, {columns} from `tabCRM Activity` force index (engagement_index)
			where reference_doctype = %(doctype)s and reference_name in %(names)s
				and activity_at <= %(as_of)s
			group by reference_name""",
			{**params, **_times(as_of), "doctype": doctype, "names": tuple(names)},
			as_list=True,
		)
		for reference, *values in rows:
			tallies = _tallies(query, values)
			pairs += [(lead, tallies) for lead in owners[(doctype, reference)]]
	return merged(pairs)


def email_tallies(leads: list[str], query: TallyQuery, as_of: datetime) -> dict[str, LeadTallies]:
	"""Per Lead, the tallies of the emails about or linked to it, its Contacts and its Opportunities."""
	if not (leads and (query.rules or query.contact_directions)):
		return {}
	columns, params = _aggregates(query, EMAIL)
	rows = frappe.db.sql(
		f"""select pairs.lead, {columns}
		from ({EMAILS_OF_LEADS}) pairs join `tabCommunication` c on c.name = pairs.communication
		where {KEPT_COMMUNICATIONS} and c.communication_date <= %(as_of)s
		group by pairs.lead""",
		{**params, **EMAIL_CHANNEL_PARAMS, **EMAIL_DIRECTION_PARAMS, **_times(as_of), "leads": tuple(leads)},
		as_list=True,
	)
	return {lead: _tallies(query, values) for lead, *values in rows}


def activity_window_counts(
	owners: dict[Ref, set[str]], cutoff: datetime, windows_days: tuple[int, ...]
) -> dict[str, dict[CountGroup, list[int]]]:
	"""Per Lead, its CRM Activities before ``cutoff`` counted per (channel, direction, outcome) within each
	window of days (what the model's count features need): only the last ``max(windows_days)`` days are
	read."""
	if not windows_days:
		return {}
	counts, params = _window_counts(ACTIVITY, cutoff, windows_days)
	result: dict[str, dict[CountGroup, list[int]]] = {}
	for doctype, names in names_by_doctype(owners).items():
		rows = frappe.db.sql(
			f"""select reference_name, channel, direction, nullif(outcome, ''), {counts}
			from `tabCRM Activity` force index (engagement_index)
			where reference_doctype = %(doctype)s and reference_name in %(names)s
				and activity_at < %(cutoff)s and activity_at >= %(oldest)s
			group by reference_name, channel, direction, outcome""",
			{**params, "doctype": doctype, "names": tuple(names)},
			as_list=True,
		)
		for reference, channel, direction, outcome, *values in rows:
			for lead in owners[(doctype, reference)]:
				add_counts(result.setdefault(lead, {}), {(channel, direction, outcome): values})
	return result


def email_window_counts(
	leads: list[str], cutoff: datetime, windows_days: tuple[int, ...]
) -> dict[str, dict[CountGroup, list[int]]]:
	"""Per Lead, its emails before ``cutoff`` counted like ``activity_window_counts``."""
	if not (leads and windows_days):
		return {}
	counts, params = _window_counts(EMAIL, cutoff, windows_days)
	rows = frappe.db.sql(
		f"""select pairs.lead, {EMAIL.channel}, {EMAIL.direction}, {counts}
		from ({EMAILS_OF_LEADS}) pairs join `tabCommunication` c on c.name = pairs.communication
		where {KEPT_COMMUNICATIONS} and c.communication_date < %(cutoff)s and c.communication_date >= %(oldest)s
		group by pairs.lead, 2, 3""",
		{**params, **EMAIL_CHANNEL_PARAMS, **EMAIL_DIRECTION_PARAMS, "leads": tuple(leads)},
		as_list=True,
	)
	result: dict[str, dict[CountGroup, list[int]]] = {}
	for lead, channel, direction, *values in rows:
		add_counts(result.setdefault(lead, {}), {(channel, direction, None): values})
	return result


def _aggregates(query: TallyQuery, source: FeedColumns) -> tuple[str, dict]:
	"""The select list (three columns per rule, one per contact direction set) and its parameters."""
	micro = f"(to_seconds({source.at}) * 1000000 + microsecond({source.at}))"
	age = f"(%(as_of_seconds)s - (to_seconds({source.at}) + microsecond({source.at}) / 1e6))"
	columns, params = [], {}
	for number, rule in enumerate(query.rules):
		conditions = ["1"]
		for field in ("channel", "direction", "outcome"):
			if value := getattr(rule, field):
				params[f"r{number}_{field}"] = value.strip()
				conditions.append(f"{getattr(source, field)} = %(r{number}_{field})s")
		matches = " and ".join(conditions)
		if rule.half_life_days:
			params[f"r{number}_half_life"] = rule.half_life_days * SECONDS_PER_DAY
			decayed = f"pow(0.5, greatest({age}, 0) / %(r{number}_half_life)s)"
		else:
			decayed = "1"
		columns += [
			f"sum(if({matches}, {decayed}, 0))",
			f"count(if({matches}, 1, null))",
			f"max(if({matches}, {micro}, null))",
		]
	for number, directions in enumerate(query.contact_directions):
		params[f"c{number}"] = directions
		columns.append(f"max(if({source.direction} in %(c{number})s, {micro}, null))")
	return ", ".join(columns), params


def _window_counts(source: FeedColumns, cutoff: datetime, windows_days: tuple[int, ...]) -> tuple[str, dict]:
	params = {f"from_{i}": cutoff - timedelta(days=days) for i, days in enumerate(windows_days)}
	params.update(cutoff=cutoff, oldest=cutoff - timedelta(days=max(windows_days)))
	counts = ", ".join(f"cast(sum({source.at} >= %(from_{i})s) as signed)" for i in range(len(windows_days)))
	return counts, params


def _times(as_of: datetime) -> dict:
	return {"as_of": as_of, "as_of_seconds": to_seconds(as_of)}


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
