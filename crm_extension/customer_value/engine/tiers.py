"""Value tiers from CLV values and ordered tier rules.

Rules are ranked: rank 1 is the top tier. A rule may set ``share`` (fraction of all customers, cumulative
from the top: Gold share 0.2 means "the best 20 %", Platinum included), ``min_value`` (CLV ≥ threshold),
both (both must hold) or neither (catch-all). Customers are ordered by value, highest first, ties broken
by the customer key (as text) ascending; each gets the best-ranked rule they qualify for, and anyone who
qualifies for none gets the lowest-ranked tier, so every customer gets exactly one tier. A share covers
round-half-up(share × customers) positions. With ``demote_overdue`` set, customers listed as overdue
drop one tier (never below the lowest).

A share only needs the customer just past its last position: ``tier_cuts`` asks for those few customers
(``key_at``: in memory, or a database query of the adapter), and ``tier_of`` then places any customer on
its own, so a population can be tiered a chunk at a time.
"""

import math
import re
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)
HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def hex_color(value: str | None) -> str | None:
	"""``value`` when it is a hex colour (#rgb, #rgba, #rrggbb, #rrggbbaa), else None: a tier's colour is
	drawn into a style attribute, so nothing else is ever passed on."""
	value = (value or "").strip()
	return value if HEX_COLOR.fullmatch(value) else None


@dataclass(frozen=True)
class TierRule:
	name: str
	rank: int
	share: float | None = None
	min_value: float | None = None

	@classmethod
	def from_mapping(cls, rule: Mapping[str, Any]) -> "TierRule":
		"""Build from a dict/child-table row. A blank share or min_value means "not set"; so does a share
		of 0, which is what an empty Float field holds and would otherwise describe an empty tier."""
		share = _optional_float(rule.get("share"))
		return cls(
			name=str(rule["name"]),
			rank=int(rule["rank"]),
			share=share or None,
			min_value=_optional_float(rule.get("min_value")),
		)


SortKey = tuple[float, str]


@dataclass(frozen=True)
class TierCuts:
	rules: list[TierRule]  # by rank
	share_ends: list[SortKey | None]  # per rule: the first customer past its share; None: nobody is


def assign_tiers(
	values: Mapping[K, float],
	rules: Sequence[TierRule | Mapping[str, Any]],
	overdue: Collection[K] = frozenset(),
	demote_overdue: bool = False,
) -> dict[K, str]:
	"""Tier name per customer (see module docstring for the rules)."""
	ordered_keys = sorted(values, key=lambda key: sort_key(values[key], key))
	cuts = tier_cuts(rules, len(ordered_keys), lambda i: sort_key(values[ordered_keys[i]], ordered_keys[i]))
	return {key: tier_of(cuts, values[key], key, key in overdue, demote_overdue) for key in values}


def sort_key(value: float | None, key: Hashable) -> SortKey:
	"""Customers in tier order: highest value first, ties by the key as text."""
	return (-_sortable(value), str(key))


def tier_cuts(
	rules: Sequence[TierRule | Mapping[str, Any]], total: int, key_at: Callable[[int], SortKey]
) -> TierCuts:
	"""``key_at(position)``: sort key of the customer at a 0-based position of the tier order."""
	ordered_rules = _validated_rules(rules)
	ends = []
	for rule in ordered_rules:
		end = None if rule.share is None else _share_positions(rule.share, total)
		ends.append(key_at(end) if end is not None and end < total else None)
	return TierCuts(ordered_rules, ends)


def tier_of(cuts: TierCuts, value: float | None, key: Hashable, overdue: bool, demote_overdue: bool) -> str:
	index = _tier_index(cuts, sort_key(value, key), value)
	if demote_overdue and overdue:
		index = min(index + 1, len(cuts.rules) - 1)
	return cuts.rules[index].name


def _tier_index(cuts: TierCuts, customer: SortKey, value: float | None) -> int:
	for index, (rule, end) in enumerate(zip(cuts.rules, cuts.share_ends, strict=True)):
		within_share = rule.share is None or end is None or customer < end
		above_threshold = rule.min_value is None or _sortable(value) >= rule.min_value
		if within_share and above_threshold:
			return index
	return len(cuts.rules) - 1


def _share_positions(share: float, total: int) -> int:
	# The epsilon keeps e.g. 0.35 × 90 = 31.499999999999996 rounding up to 32 as intended.
	return math.floor(share * total + 0.5 + 1e-9)


def _validated_rules(rules: Sequence[TierRule | Mapping[str, Any]]) -> list[TierRule]:
	parsed = [rule if isinstance(rule, TierRule) else TierRule.from_mapping(rule) for rule in rules]
	if not parsed:
		raise ValueError("At least one tier rule is needed")
	if len({rule.rank for rule in parsed}) != len(parsed):
		raise ValueError("Tier ranks must be unique")
	if any(rule.share is not None and not 0 <= rule.share <= 1 for rule in parsed):
		raise ValueError("Tier shares must be between 0 and 1")
	return sorted(parsed, key=lambda rule: rule.rank)


def _sortable(value: float | None) -> float:
	if value is None or math.isnan(value):
		return -math.inf
	return float(value)


def _optional_float(value: Any) -> float | None:
	return None if value is None or value == "" else float(value)
