"""Feature rows for the conversion model, and the labels of decided leads.

A feature row describes a lead as it was known at a ``cutoff``: its fields, and feed items strictly before
the cutoff. For a decided lead the cutoff is its outcome time, so nothing recorded after the conversion or
loss enters its training row; for an open lead it is ``as_of``. Only the fields named in
``FeatureSettings`` are read (never the status, which is the outcome itself).

Row keys (all optional; a missing key means 0 or "not set"):

- ``<field>``: the text of a categorical field (the model one-hot encodes it);
- ``has:<field>``: 1.0 when a contact field is filled in, else 0.0 (always present);
- ``num:<field>``: a numeric field's value (non-negative);
- ``count:<days>d:all`` / ``count:<days>d:channel:<Channel>`` / ``count:<days>d:direction:<Direction>`` /
  ``count:<days>d:outcome:<Outcome>``: feed items within ``days`` before the cutoff (non-zero counts only);
- ``days_since_last_contact``: days from the last Inbound or Outbound item to the cutoff, capped at
  ``max_days`` (``max_days`` when there is none), and ``no_contact`` 1.0 when there is none.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from crm_extension.lead_scoring.engine.decay import age_in_days
from crm_extension.lead_scoring.engine.rules import as_number, is_set
from crm_extension.lead_scoring.engine.tallies import CONTACT_DIRECTIONS

Row = dict[str, float | str]
CountGroup = tuple[str | None, str | None, str | None]  # channel, direction, outcome

CONVERTED = "Converted"
LOST_STATUSES = frozenset({"Do Not Contact", "Lost Quotation", "Unqualified"})
UNQUALIFIED = "Unqualified"
WON_OPPORTUNITY_STATUSES = frozenset({"Converted"})
LOST_OPPORTUNITY_STATUSES = frozenset({"Lost"})
CLOSED_OPPORTUNITY_STATUSES = frozenset({"Lost", "Closed"})

ALL = "all"
DAYS_SINCE_LAST_CONTACT = "days_since_last_contact"
NO_CONTACT = "no_contact"
HAS_PREFIX = "has:"
NUMBER_PREFIX = "num:"
COUNT_PREFIX = "count:"


@dataclass(frozen=True)
class FeatureSettings:
	categorical_fields: tuple[str, ...] = (
		"source",
		"utm_source",
		"utm_medium",
		"utm_campaign",
		"industry",
		"market_segment",
		"territory",
		"country",
		"no_of_employees",
		"lead_type",
		"request_type",
	)
	presence_fields: tuple[str, ...] = ("email_id", "mobile_no", "phone", "website", "company_name")
	numeric_fields: tuple[str, ...] = ("annual_revenue",)
	windows_days: tuple[int, ...] = (7, 30, 90)
	max_days: float = 365.0


DEFAULT_FEATURES = FeatureSettings()


@dataclass(frozen=True)
class OpportunityFact:
	"""An Opportunity made from the lead: its host status and when it was won, lost or closed."""

	status: str
	closed_at: datetime | None = None


@dataclass(frozen=True)
class OutcomeFacts:
	"""What the site knows about a lead's outcome.

	``status_changed_at`` is when the lead got its current status; ``customer_created_at`` when a Customer
	was made from it (None when none was).
	"""

	status: str | None
	status_changed_at: datetime | None = None
	qualification_status: str | None = None
	customer_created_at: datetime | None = None
	opportunities: tuple[OpportunityFact, ...] = ()


@dataclass(frozen=True)
class Label:
	"""1 converted, 0 lost, None open; ``decided_at`` is the outcome time (None when open or unknown)."""

	label: int | None
	decided_at: datetime | None = None

	@property
	def is_decided(self) -> bool:
		return self.label is not None


OPEN = Label(None)


def label_lead(facts: OutcomeFacts) -> Label:
	"""Converted (status Converted, a Customer or a won Opportunity came from it) is 1 at the earliest of
	those times; lost (Do Not Contact, Lost Quotation, Unqualified, or every Opportunity closed and one
	lost) is 0 at the status change or the last loss. Conversion wins over loss."""
	converted_at = _conversion_times(facts)
	if converted_at is not None:
		return Label(1, min(converted_at, default=None))
	lost_at = _loss_times(facts)
	if lost_at is not None:
		return Label(0, max(lost_at, default=None))
	return OPEN


def feature_row(
	lead: Mapping[str, Any],
	feed: Iterable[Mapping[str, Any]],
	cutoff: datetime,
	settings: FeatureSettings = DEFAULT_FEATURES,
) -> Row:
	"""The lead as known strictly before ``cutoff`` (same tz-awareness as the feed's ``at``)."""
	known = known_before(feed, cutoff)
	return {
		**field_features(lead, settings),
		**count_features_from_groups(window_counts(known, cutoff, settings), settings),
		**recency_from_last_contact(last_contact(known), cutoff, settings),
	}


def known_before(feed: Iterable[Mapping[str, Any]], cutoff: datetime) -> list[Mapping[str, Any]]:
	"""The feed items with a time strictly before ``cutoff``."""
	return [item for item in feed if item.get("at") is not None and item["at"] < cutoff]


def known_within(
	items: Iterable[Mapping[str, Any]], cutoff: datetime, days: float
) -> list[Mapping[str, Any]]:
	"""The items known before ``cutoff`` and at most ``days`` older than it (what a window counts)."""
	oldest = cutoff - timedelta(days=days)
	return [item for item in known_before(items, cutoff) if item["at"] >= oldest]


def window_counts(
	items: Iterable[Mapping[str, Any]], cutoff: datetime, settings: FeatureSettings = DEFAULT_FEATURES
) -> dict[CountGroup, list[int]]:
	"""Per (channel, direction, outcome), the items within each window (days before ``cutoff``)."""
	counts: dict[CountGroup, list[int]] = {}
	for item in items:
		age = age_in_days(item["at"], cutoff)
		if age > max(settings.windows_days, default=0):
			continue
		group = (item.get("channel"), item.get("direction"), item.get("outcome"))
		tally = counts.setdefault(group, [0] * len(settings.windows_days))
		for index, days in enumerate(settings.windows_days):
			tally[index] += age <= days
	return counts


def last_contact(items: Iterable[Mapping[str, Any]]) -> datetime | None:
	return max((item["at"] for item in items if item.get("direction") in CONTACT_DIRECTIONS), default=None)


def field_features(lead: Mapping[str, Any], settings: FeatureSettings = DEFAULT_FEATURES) -> Row:
	row: Row = {}
	for field in settings.categorical_fields:
		if is_set(lead.get(field)):
			row[field] = str(lead[field]).strip()
	for field in settings.presence_fields:
		row[HAS_PREFIX + field] = 1.0 if is_set(lead.get(field)) else 0.0
	for field in settings.numeric_fields:
		number = as_number(lead.get(field))
		if number is not None and number > 0:
			row[NUMBER_PREFIX + field] = number
	return row


def count_features_from_groups(
	counts: Mapping[CountGroup, Sequence[int]], settings: FeatureSettings = DEFAULT_FEATURES
) -> Row:
	row: dict[str, float] = {}
	for group, values in counts.items():
		for days, count in zip(settings.windows_days, values, strict=True):
			if count:
				for key in _count_keys(group, days):
					row[key] = row.get(key, 0.0) + count
	return row


def recency_from_last_contact(
	last_contact_at: datetime | None, cutoff: datetime, settings: FeatureSettings = DEFAULT_FEATURES
) -> Row:
	if last_contact_at is None:
		return {DAYS_SINCE_LAST_CONTACT: settings.max_days, NO_CONTACT: 1.0}
	return {DAYS_SINCE_LAST_CONTACT: min(age_in_days(last_contact_at, cutoff), settings.max_days)}


def count_key(days: int, dimension: str, value: str | None = None) -> str:
	return f"{COUNT_PREFIX}{days}d:{dimension}" + ("" if value is None else f":{value}")


@lru_cache(maxsize=4096)  # a site has few (channel, direction, outcome) groups; a rescore asks for each often
def _count_keys(group: CountGroup, days: int) -> tuple[str, ...]:
	keys = [count_key(days, ALL)]
	for dimension, value in zip(("channel", "direction", "outcome"), group, strict=True):
		if is_set(value):
			keys.append(count_key(days, dimension, str(value).strip()))
	return tuple(keys)


def _conversion_times(facts: OutcomeFacts) -> list[datetime] | None:
	won = [o for o in facts.opportunities if o.status in WON_OPPORTUNITY_STATUSES]
	if not (facts.status == CONVERTED or facts.customer_created_at or won):
		return None
	times = [opportunity.closed_at for opportunity in won]
	times += [facts.customer_created_at, facts.status_changed_at if facts.status == CONVERTED else None]
	return [time for time in times if time is not None]


def _loss_times(facts: OutcomeFacts) -> list[datetime] | None:
	lost_by_status = facts.status in LOST_STATUSES or facts.qualification_status == UNQUALIFIED
	opportunities = facts.opportunities
	all_lost = (
		bool(opportunities)
		and all(o.status in CLOSED_OPPORTUNITY_STATUSES for o in opportunities)
		and any(o.status in LOST_OPPORTUNITY_STATUSES for o in opportunities)
	)
	if not (lost_by_status or all_lost):
		return None
	times = [o.closed_at for o in opportunities if all_lost and o.status in LOST_OPPORTUNITY_STATUSES]
	times.append(facts.status_changed_at if lost_by_status else None)
	return [time for time in times if time is not None]
