"""Rule score of a lead: fit rules on its fields, engagement rules on its feed, inactivity rules.

Three kinds of rule, each with an id, a label and points (negative points make a negative rule):

- **Fit** (``FitRule``): ``field operator value`` on the Lead's fields. Operators: equals, not equals,
  contains (text, case-insensitive; numbers compare as numbers, so "1" equals 1), in, not in (a list of
  values), greater than, less than, between (numbers; between includes both bounds), is set, is not set
  (blank text, None and an empty list are "not set"; 0 is set, so test a Check field with ``equals 1``).
  A field holding a value the operator cannot compare (text for greater than) does not match.
- **Engagement** (``EngagementRule``): every feed item (``activity_log.engine.feed``: ``channel``,
  ``direction``, ``outcome``, ``at``) at or before ``as_of`` that matches the rule's channel, direction and
  outcome (each optional, channel and outcome case-insensitive) earns ``points × 0.5 ** (age / half_life)``,
  its age in days at ``as_of``. No half-life means no decay. With ``within_days`` only items at most that
  many days old count (a window: "clicked a link in the last 14 days"). The rule's total is capped at
  ``max_points`` in magnitude. "Bounced" or "Not Interested" with negative points are negative engagement rules.
- **Inactivity** (``InactivityRule``): ``points`` when the last Inbound or Outbound item (or only the
  given direction) is ``days`` or more before ``as_of``. A lead with no such item is measured from its
  ``creation``, so a new lead is not idle; a lead with neither is idle.

The score is the sum of all rules' points clamped to 0..100. The breakdown lists every rule that gave points,
largest magnitude first (ties by rule id).
"""

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from crm_extension.activity_log.engine.feed import DIRECTIONS
from crm_extension.i18n import N_
from crm_extension.lead_scoring.engine.decay import age_in_days
from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.tallies import (
	LeadTallies,
	Tally,
	TallyQuery,
	contact_directions,
	tally_query,
	tally_touches,
)

FIT = "Fit"
ENGAGEMENT = "Engagement"
INACTIVITY = "Inactivity"
RULE_TYPES = (FIT, ENGAGEMENT, INACTIVITY)

EQUALS = "equals"
NOT_EQUALS = "not equals"
IN = "in"
NOT_IN = "not in"
BETWEEN = "between"
GREATER_THAN = "greater than"
LESS_THAN = "less than"
IS_SET = "is set"
IS_NOT_SET = "is not set"
CONTAINS = "contains"
OPERATORS = (EQUALS, NOT_EQUALS, IN, NOT_IN, BETWEEN, GREATER_THAN, LESS_THAN, IS_SET, IS_NOT_SET, CONTAINS)
LIST_OPERATORS = frozenset({IN, NOT_IN})
NUMBER_OPERATORS = frozenset({BETWEEN, GREATER_THAN, LESS_THAN})
PRESENCE_OPERATORS = frozenset({IS_SET, IS_NOT_SET})
NUMERIC_FIELDTYPES = frozenset({"Int", "Float", "Currency", "Percent", "Check", "Rating", "Duration"})

REMEMBERED_VALUES = 10_000
MIN_SCORE = 0.0
MAX_SCORE = 100.0
DEFAULT_HALF_LIFE_DAYS = 30.0

UNKNOWN_RULE_TYPE = N_("Rule {rule}: unknown rule type {rule_type}")
UNKNOWN_OPERATOR = N_("Rule {rule}: unknown operator {operator}")
FIELD_REQUIRED = N_("Rule {rule}: a Lead field is required")
VALUE_REQUIRED = N_("Rule {rule}: the operator {operator} needs a value")
BETWEEN_NEEDS_TWO_BOUNDS = N_("Rule {rule}: between needs two bounds, a lower and an upper one")
BOUNDS_REVERSED = N_("Rule {rule}: the lower bound {low} is above the upper bound {high}")
POINTS_NOT_A_NUMBER = N_("Rule {rule}: points must be a number, not {value}")
VALUE_NOT_A_NUMBER = N_("Rule {rule}: {operator} needs a number, not {value}")
HALF_LIFE_NOT_A_NUMBER = N_("Rule {rule}: the half-life must be a number of days, not {value}")
CAP_NOT_A_NUMBER = N_("Rule {rule}: the cap must be a number of points, not {value}")
DAYS_NOT_A_NUMBER = N_("Rule {rule}: the number of days without activity must be a number, not {value}")
WINDOW_NOT_A_NUMBER = N_("Rule {rule}: the window must be a number of days, not {value}")
WINDOW_NOT_POSITIVE = N_("Rule {rule}: the window must be more than 0 days")
HALF_LIFE_NOT_POSITIVE = N_("Rule {rule}: the half-life must be more than 0 days")
CAP_NOT_POSITIVE = N_("Rule {rule}: the cap must be more than 0 points")
DAYS_NOT_POSITIVE = N_("Rule {rule}: the number of days without activity must be more than 0")
UNKNOWN_DIRECTION = N_("Rule {rule}: unknown direction {direction}")
UNKNOWN_FIELD = N_("Rule {rule}: the Lead has no field {field}")
FIELD_NOT_NUMERIC = N_("Rule {rule}: {operator} needs a number field, but {field} is a {fieldtype} field")


@dataclass(frozen=True)
class FitRule:
	"""``value`` is a tuple of values for in / not in and a (low, high) pair for between."""

	id: str
	label: str
	points: float
	field: str
	operator: str
	value: Any = None
	# Leads share few distinct values per field (sources, industries...): each is compared once per rule.
	_seen: dict = dataclass_field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
	# what the rule gives every lead it matches, made once
	_given: "Contribution | None" = dataclass_field(default=None, init=False, repr=False, compare=False)

	def __post_init__(self):
		_check_points(self.id, self.points)
		if not (self.field or "").strip():
			raise LeadScoringError(FIELD_REQUIRED, {"rule": self.id})
		if self.operator not in OPERATORS:
			raise LeadScoringError(UNKNOWN_OPERATOR, {"rule": self.id, "operator": self.operator})
		object.__setattr__(self, "value", _checked_value(self.id, self.operator, self.value))
		object.__setattr__(self, "_given", _contributed(self, self.points, 0, None))

	rule_type: ClassVar[str] = FIT

	def contribution(
		self, lead: Mapping[str, Any], _tallies: LeadTallies, _as_of: datetime
	) -> "Contribution | None":
		"""What the rule gave the lead; None when it gave no points (the same for each kind of rule)."""
		return self._given if self.matches(lead) else None

	def matches(self, lead: Mapping[str, Any]) -> bool:
		value = lead.get(self.field)
		try:
			return self._seen[value]
		except KeyError:
			matched = field_matches(value, self.operator, self.value)
			if len(self._seen) < REMEMBERED_VALUES:
				self._seen[value] = matched
			return matched
		except TypeError:  # an unhashable value (a list)
			return field_matches(value, self.operator, self.value)


@dataclass(frozen=True)
class EngagementRule:
	id: str
	label: str
	points: float
	channel: str | None = None
	direction: str | None = None
	outcome: str | None = None
	half_life_days: float | None = DEFAULT_HALF_LIFE_DAYS
	max_points: float | None = None
	within_days: float | None = None
	_hash: int = dataclass_field(default=0, init=False, repr=False, compare=False)

	def __post_init__(self):
		_check_points(self.id, self.points)
		_check_direction(self.id, self.direction)
		_check_positive(self.id, self.half_life_days, HALF_LIFE_NOT_A_NUMBER, HALF_LIFE_NOT_POSITIVE)
		_check_positive(self.id, self.max_points, CAP_NOT_A_NUMBER, CAP_NOT_POSITIVE)
		_check_positive(self.id, self.within_days, WINDOW_NOT_A_NUMBER, WINDOW_NOT_POSITIVE)
		# A lead's tallies are looked up by rule, for every lead of a rescore: the fields are hashed once.
		fields = (self.id, self.label, self.points, self.channel, self.direction, self.outcome)
		object.__setattr__(
			self, "_hash", hash((*fields, self.half_life_days, self.max_points, self.within_days))
		)

	def __hash__(self) -> int:
		return self._hash

	rule_type: ClassVar[str] = ENGAGEMENT

	def contribution(
		self, _lead: Mapping[str, Any], tallies: LeadTallies, _as_of: datetime
	) -> "Contribution | None":
		tally = tallies.rules.get(self)
		if tally is None:
			return None
		return _contributed(self, engagement_points(self, tally), tally.count, tally.latest_at)

	def matches(self, item: "FeedTouch") -> bool:
		return (
			(not self.channel or _text(self.channel) == item.channel)
			and (not self.direction or self.direction == item.direction)
			and (not self.outcome or _text(self.outcome) == item.outcome)
		)


@dataclass(frozen=True)
class InactivityRule:
	id: str
	label: str
	points: float
	days: float
	direction: str | None = None

	def __post_init__(self):
		_check_points(self.id, self.points)
		_check_direction(self.id, self.direction)
		if self.days is None:
			raise LeadScoringError(DAYS_NOT_POSITIVE, {"rule": self.id})
		_check_positive(self.id, self.days, DAYS_NOT_A_NUMBER, DAYS_NOT_POSITIVE)

	rule_type: ClassVar[str] = INACTIVITY

	def contribution(
		self, lead: Mapping[str, Any], tallies: LeadTallies, as_of: datetime
	) -> "Contribution | None":
		last = tallies.contacts.get(contact_directions(self.direction))
		idle = idle_days(last, lead.get("creation"), as_of) >= self.days
		return _contributed(self, self.points, 0, last) if idle else None


Rule = FitRule | EngagementRule | InactivityRule


@dataclass(frozen=True)
class FeedTouch:
	"""A feed item reduced to what rules match on: channel and outcome casefolded."""

	channel: str
	direction: str | None
	outcome: str
	at: datetime


class Contribution(NamedTuple):  # a tuple: a rescore makes several per lead
	rule_id: str
	label: str
	rule_type: str
	points: float
	matched_items: int = 0
	latest_at: datetime | None = None

	def as_dict(self) -> dict[str, Any]:
		return self._asdict()


@dataclass(frozen=True)
class RuleScore:
	score: float
	raw_points: float
	breakdown: tuple[Contribution, ...]

	def breakdown_dicts(self) -> list[dict[str, Any]]:
		return [contribution.as_dict() for contribution in self.breakdown]


@dataclass(frozen=True)
class ParsedRules:
	rules: tuple[Rule, ...]
	errors: tuple[tuple[str, LeadScoringError], ...]


# --- building rules from rows ---


def rule_from_mapping(row: Mapping[str, Any]) -> Rule:
	"""Build a rule from a dict or DocType row.

	Keys: ``name`` (the id), ``label``, ``rule_type`` (Fit / Engagement / Inactivity), ``points``; fit:
	``field``, ``operator``, ``value`` (for in / not in one value a line, or comma-separated), ``value_to``
	(between's upper bound); engagement: ``channel``, ``direction``, ``outcome``, ``half_life_days`` (blank:
	no decay), ``max_points`` (blank or 0: no cap), ``within_days`` (blank or 0: any age); inactivity: ``inactive_days``, ``direction``.
	"""
	rule_id = str(row.get("name") or row.get("id") or "")
	label = str(row.get("label") or rule_id)
	points = _number_setting(rule_id, row.get("points"), POINTS_NOT_A_NUMBER)
	rule_type = row.get("rule_type") or FIT
	if rule_type == FIT:
		return _fit_rule_from_mapping(rule_id, label, points, row)
	if rule_type == ENGAGEMENT:
		return EngagementRule(
			id=rule_id,
			label=label,
			points=points,
			channel=_blank_to_none(row.get("channel")),
			direction=_blank_to_none(row.get("direction")),
			outcome=_blank_to_none(row.get("outcome")),
			half_life_days=_optional_number(rule_id, row.get("half_life_days"), HALF_LIFE_NOT_A_NUMBER),
			max_points=_optional_number(rule_id, row.get("max_points"), CAP_NOT_A_NUMBER) or None,
			within_days=_optional_number(rule_id, row.get("within_days"), WINDOW_NOT_A_NUMBER) or None,
		)
	if rule_type == INACTIVITY:
		return InactivityRule(
			id=rule_id,
			label=label,
			points=points,
			days=_optional_number(rule_id, row.get("inactive_days"), DAYS_NOT_A_NUMBER),
			direction=_blank_to_none(row.get("direction")),
		)
	raise LeadScoringError(UNKNOWN_RULE_TYPE, {"rule": rule_id, "rule_type": rule_type})


def parse_rules(rows: Iterable[Mapping[str, Any]]) -> ParsedRules:
	"""Enabled rows as rules; a broken row is left out and reported, so it never stops scoring."""
	rules, errors = [], []
	for row in rows:
		if not row.get("enabled", True):
			continue
		try:
			rules.append(rule_from_mapping(row))
		except LeadScoringError as error:
			errors.append((str(row.get("name") or row.get("id") or ""), error))
	return ParsedRules(tuple(rules), tuple(errors))


def check_fit_rule_fields(rule: Rule, fieldtypes: Mapping[str, str]) -> None:
	"""Refuse a fit rule on a field the Lead lacks, or a number comparison on a field that holds no number.

	``fieldtypes`` maps the Lead's fieldnames to their Frappe fieldtype.
	"""
	if not isinstance(rule, FitRule):
		return
	if rule.field not in fieldtypes:
		raise LeadScoringError(UNKNOWN_FIELD, {"rule": rule.id, "field": rule.field})
	fieldtype = fieldtypes[rule.field]
	if rule.operator in NUMBER_OPERATORS and fieldtype not in NUMERIC_FIELDTYPES:
		params = {"rule": rule.id, "operator": rule.operator, "field": rule.field, "fieldtype": fieldtype}
		raise LeadScoringError(FIELD_NOT_NUMERIC, params)


# --- scoring ---


def score_lead(
	lead: Mapping[str, Any], feed: Iterable[Mapping[str, Any]], rules: Sequence[Rule], as_of: datetime
) -> RuleScore:
	"""Rule score of one lead at ``as_of`` (feed times and ``lead["creation"]`` in the same tz-awareness)."""
	return score_tallies(lead, tally_feed(feed, rules, as_of), rules, as_of)


def score_tallies(
	lead: Mapping[str, Any], tallies: LeadTallies, rules: Sequence[Rule], as_of: datetime
) -> RuleScore:
	"""Rule score of one lead from its feed's tallies (``tallies``), the same as from the items."""
	given = [c for rule in rules if (c := rule.contribution(lead, tallies, as_of)) is not None]
	raw = sum(contribution.points for contribution in given)
	return RuleScore(
		score=round(clamp_score(raw), 2),
		raw_points=round(raw, 2),
		breakdown=tuple(sorted(given, key=lambda c: (-abs(c.points), c.rule_id))),
	)


def rules_tally_query(rules: Sequence[Rule], with_last_contact: bool = False) -> TallyQuery:
	"""What the feed must be tallied into to score ``rules``; ``with_last_contact``: also the last Inbound or
	Outbound item (the model's recency feature)."""
	return tally_query(
		[rule for rule in rules if isinstance(rule, EngagementRule)],
		[rule for rule in rules if isinstance(rule, InactivityRule)],
		[contact_directions(None)] if with_last_contact else [],
	)


def tally_feed(
	feed: Iterable[Mapping[str, Any]], rules: Sequence[Rule], as_of: datetime, query: TallyQuery | None = None
) -> LeadTallies:
	"""Tallies of ``feed`` for ``rules`` (or for ``query``, made from them)."""
	return tally_touches(feed_touches(feed, as_of), query or rules_tally_query(rules), as_of)


def clamp_score(points: float) -> float:
	return min(max(points, MIN_SCORE), MAX_SCORE)


def feed_touches(feed: Iterable[Mapping[str, Any]], as_of: datetime) -> list[FeedTouch]:
	"""Feed items with a time at or before ``as_of``."""
	return [
		FeedTouch(
			channel=_text(item.get("channel")),
			direction=item.get("direction"),
			outcome=_text(item.get("outcome")),
			at=item["at"],
		)
		for item in feed
		if item.get("at") is not None and item["at"] <= as_of
	]


def engagement_points(rule: EngagementRule, tally: Tally) -> float:
	"""Decayed, capped points of one engagement rule."""
	total = rule.points * tally.decayed
	if rule.max_points is not None:
		total = math.copysign(min(abs(total), rule.max_points), total)
	return total


def idle_days(last_contact: datetime | None, created: datetime | None, as_of: datetime) -> float:
	"""Days since the last contact, or since ``created`` when there was none; infinite when neither."""
	reference = last_contact or created
	return math.inf if reference is None else age_in_days(reference, as_of)


def _contributed(
	rule: Rule, points: float, matched_items: int, latest_at: datetime | None
) -> Contribution | None:
	"""What the rule gave the lead (each rule's ``contribution``); None when it gave no points."""
	points = round(points, 2)
	if not points:
		return None
	return Contribution(rule.id, rule.label, rule.rule_type, points, matched_items, latest_at)


# --- field comparisons ---


def field_matches(field_value: Any, operator: str, rule_value: Any) -> bool:
	if operator in PRESENCE_OPERATORS:
		return is_set(field_value) == (operator == IS_SET)
	if operator == EQUALS:
		return same_value(field_value, rule_value)
	if operator == NOT_EQUALS:
		return not same_value(field_value, rule_value)
	if operator in LIST_OPERATORS:
		found = any(same_value(field_value, value) for value in rule_value)
		return found == (operator == IN)
	if operator == CONTAINS:
		return is_set(field_value) and _text(rule_value) in _text(field_value)
	return _number_matches(as_number(field_value), operator, rule_value)


def _number_matches(number: float | None, operator: str, rule_value: Any) -> bool:
	if number is None:
		return False
	if operator == GREATER_THAN:
		return number > rule_value
	if operator == LESS_THAN:
		return number < rule_value
	low, high = rule_value
	return low <= number <= high


def same_value(a: Any, b: Any) -> bool:
	"""Numbers compare as numbers ("1" equals 1.0), anything else as trimmed, case-insensitive text."""
	number_a, number_b = as_number(a), as_number(b)
	if number_a is not None and number_b is not None:
		return number_a == number_b
	return _text(a) == _text(b)


def is_set(value: Any) -> bool:
	if value is None:
		return False
	if isinstance(value, str):
		return bool(value.strip())
	if isinstance(value, list | tuple | set | frozenset | dict):
		return bool(value)
	return True


def as_number(value: Any) -> float | None:
	if isinstance(value, numbers.Real):
		number = float(value)
	elif isinstance(value, str):
		try:
			number = float(value.strip())
		except ValueError:
			return None
	else:
		return None
	return number if math.isfinite(number) else None


def _text(value: Any) -> str:
	return "" if value is None else str(value).strip().casefold()


# --- validation ---


def _checked_value(rule_id: str, operator: str, value: Any) -> Any:
	if operator in PRESENCE_OPERATORS:
		return None
	if operator in LIST_OPERATORS:
		values = tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,)
		values = tuple(item for item in values if is_set(item))
		if not values:
			raise LeadScoringError(VALUE_REQUIRED, {"rule": rule_id, "operator": operator})
		return values
	if operator == BETWEEN:
		return _checked_bounds(rule_id, value)
	if not is_set(value):
		raise LeadScoringError(VALUE_REQUIRED, {"rule": rule_id, "operator": operator})
	if operator in NUMBER_OPERATORS:
		return _number_setting(rule_id, value, VALUE_NOT_A_NUMBER, operator)
	return value


def _checked_bounds(rule_id: str, value: Any) -> tuple[float, float]:
	bounds = tuple(value) if isinstance(value, list | tuple) else (value,)
	if len(bounds) != 2 or not all(is_set(bound) for bound in bounds):
		raise LeadScoringError(BETWEEN_NEEDS_TWO_BOUNDS, {"rule": rule_id})
	low, high = (_number_setting(rule_id, bound, VALUE_NOT_A_NUMBER, BETWEEN) for bound in bounds)
	if low > high:
		raise LeadScoringError(BOUNDS_REVERSED, {"rule": rule_id, "low": low, "high": high})
	return low, high


def _check_points(rule_id: str, points: Any) -> None:
	_check_number(rule_id, points, POINTS_NOT_A_NUMBER)


def _check_direction(rule_id: str, direction: str | None) -> None:
	if direction and direction not in DIRECTIONS:
		raise LeadScoringError(UNKNOWN_DIRECTION, {"rule": rule_id, "direction": direction})


def _check_positive(rule_id: str, value: Any, not_a_number: str, not_positive: str) -> None:
	if value is None:
		return
	_check_number(rule_id, value, not_a_number)
	if value <= 0:
		raise LeadScoringError(not_positive, {"rule": rule_id})


def _check_number(rule_id: str, value: Any, template: str) -> None:
	if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
		raise LeadScoringError(template, {"rule": rule_id, "value": value})


def _number_setting(rule_id: str, value: Any, template: str, operator: str | None = None) -> float:
	number = as_number(value)
	if number is None:
		raise LeadScoringError(template, {"rule": rule_id, "value": value, "operator": operator})
	return number


def _optional_number(rule_id: str, value: Any, template: str) -> float | None:
	return _number_setting(rule_id, value, template) if is_set(value) else None


def _fit_rule_from_mapping(rule_id: str, label: str, points: float, row: Mapping[str, Any]) -> FitRule:
	operator = (row.get("operator") or "").strip().lower()
	value = row.get("value")
	if operator in LIST_OPERATORS and isinstance(value, str):
		value = _split_values(value)
	elif operator == BETWEEN and not isinstance(value, list | tuple):
		value = (value, row.get("value_to"))
	return FitRule(
		id=rule_id,
		label=label,
		points=points,
		field=(row.get("field") or "").strip(),
		operator=operator,
		value=value,
	)


def _split_values(text: str) -> tuple[str, ...]:
	separator = "\n" if "\n" in text else ","
	return tuple(part.strip() for part in text.split(separator) if part.strip())


def _blank_to_none(value: Any) -> Any:
	return value if is_set(value) else None
