"""What a lead's feed adds up to for each rule: scoring needs these totals, not the items.

An engagement rule needs three numbers from the items it matches at or before ``as_of``: the sum of their
decay factors (``0.5 ** (age / half_life)``, 1 each without a half-life), how many there are, and the newest
one's time. An inactivity rule needs the newest contact in its directions. These are sums and maxima, so
tallies made from different sources merge by adding and keeping the later time. A database can make them
with one ``GROUP BY`` per chunk of leads (``TallyQuery`` says what to aggregate), and the engine scores
them exactly as it scores the items.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_extension.activity_log.engine.feed import INBOUND, OUTBOUND
from crm_extension.lead_scoring.engine.decay import age_in_days, decay_factor

CONTACT_DIRECTIONS = (INBOUND, OUTBOUND)


@dataclass
class Tally:
	"""The items one engagement rule matched: sum of decay factors, count, newest time."""

	decayed: float = 0.0
	count: int = 0
	latest_at: datetime | None = None

	def add(self, decayed: float, count: int, latest_at: datetime | None) -> None:
		self.decayed += decayed
		self.count += count
		self.latest_at = later(self.latest_at, latest_at)


@dataclass
class LeadTallies:
	"""Per engagement rule its ``Tally`` (rules are keyed by value, so two equal rules share one); per
	direction set the newest contact in it."""

	rules: dict[Any, Tally] = field(default_factory=dict)
	contacts: dict[tuple[str, ...], datetime | None] = field(default_factory=dict)

	def tally(self, rule: Any) -> Tally:
		return self.rules.setdefault(rule, Tally())

	def add_contact(self, directions: tuple[str, ...], at: datetime | None) -> None:
		self.contacts[directions] = later(self.contacts.get(directions), at)

	def merge(self, other: "LeadTallies") -> "LeadTallies":
		for rule, tally in other.rules.items():
			self.tally(rule).add(tally.decayed, tally.count, tally.latest_at)
		for directions, at in other.contacts.items():
			self.add_contact(directions, at)
		return self


@dataclass(frozen=True)
class TallyQuery:
	"""What a database aggregates per lead so that ``tallies_from_aggregates`` can rebuild the tallies: per
	engagement rule (``rules.EngagementRule``) the items whose channel, direction and outcome equal the rule's
	(blank: any; channel and outcome compared without case) and at most ``within_days`` old when the rule
	has a window, and the newest contact per direction set."""

	rules: tuple[Any, ...]
	contact_directions: tuple[tuple[str, ...], ...]


def contact_directions(direction: str | None) -> tuple[str, ...]:
	"""The directions an inactivity rule counts as contact: its own, or Inbound and Outbound."""
	return (direction,) if direction else CONTACT_DIRECTIONS


def tally_query(
	engagement_rules: Sequence[Any],
	inactivity_rules: Sequence[Any],
	more_contact_directions: Iterable[tuple[str, ...]] = (),
) -> TallyQuery:
	directions = {contact_directions(rule.direction) for rule in inactivity_rules} | set(
		more_contact_directions
	)
	return TallyQuery(
		rules=tuple(dict.fromkeys(engagement_rules)),
		contact_directions=tuple(sorted(directions)),
	)


def tallies_from_aggregates(
	query: TallyQuery,
	rule_values: Sequence[tuple[float | None, int | None, datetime | None]],
	contact_values: Sequence[datetime | None],
) -> LeadTallies:
	"""Tallies from a database's aggregates, in ``query`` order: per rule (sum of decay factors, count, newest
	time), per contact direction set the newest time."""
	tallies = LeadTallies()
	for rule, (decayed, count, latest_at) in zip(query.rules, rule_values, strict=True):
		if count:
			tallies.tally(rule).add(float(decayed or 0.0), int(count), latest_at)
	for directions, at in zip(query.contact_directions, contact_values, strict=True):
		tallies.add_contact(directions, at)
	return tallies


def tally_touches(touches: Iterable[Any], query: TallyQuery, as_of: datetime) -> LeadTallies:
	"""Tallies of feed touches (``rules.FeedTouch``: channel and outcome casefolded) at or before ``as_of``."""
	tallies = LeadTallies()
	for touch in touches:
		for rule in query.rules:
			if rule.matches(touch) and in_window(rule, touch.at, as_of):
				decayed = decay_factor(age_in_days(touch.at, as_of), rule.half_life_days)
				tallies.tally(rule).add(decayed, 1, touch.at)
		for directions in query.contact_directions:
			if touch.direction in directions:
				tallies.add_contact(directions, touch.at)
	return tallies


def in_window(rule: Any, at: datetime, as_of: datetime) -> bool:
	"""Whether an item at ``at`` is recent enough for the rule's ``within_days`` (no window: always)."""
	within = getattr(rule, "within_days", None)
	return within is None or age_in_days(at, as_of) <= within


def later(a: datetime | None, b: datetime | None) -> datetime | None:
	if a is None:
		return b
	return a if b is None or a >= b else b


def merged(pairs: Iterable[tuple[str, LeadTallies]]) -> dict[str, LeadTallies]:
	"""Per lead, the merge of its tallies from (lead, tallies) pairs. The given tallies are never changed; a
	lead with one pair keeps that tallies object."""
	result: dict[str, LeadTallies] = {}
	for lead, tallies in pairs:
		result[lead] = LeadTallies().merge(result[lead]).merge(tallies) if lead in result else tallies
	return result
