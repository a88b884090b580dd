"""Value tiers from CLV values and ordered tier rules.

Rules are ranked: rank 1 is the top tier. A rule may set ``share`` (fraction of all customers, cumulative
from the top: Gold share 0.2 means "the best 20 %", Platinum included), ``min_value`` (CLV ≥ threshold),
both (both must hold) or neither (catch-all). Customers are ordered by value, highest first, ties broken
by the customer key (as text) ascending; each gets the best-ranked rule they qualify for, and anyone who
qualifies for none gets the lowest-ranked tier, so every customer gets exactly one tier. A share covers
round-half-up(share × customers) positions. With ``demote_overdue`` set, customers listed as overdue
drop one tier (never below the lowest).
"""

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)


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


def assign_tiers(
	values: Mapping[K, float],
	rules: Sequence[TierRule | Mapping[str, Any]],
	overdue: Collection[K] = frozenset(),
	demote_overdue: bool = False,
) -> dict[K, str]:
	"""Tier name per customer (see module docstring for the rules)."""
	ordered_rules = _validated_rules(rules)
	ordered_keys = sorted(values, key=lambda key: (-_sortable(values[key]), str(key)))
	total = len(ordered_keys)
	tiers = {}
	for position, key in enumerate(ordered_keys):
		index = _tier_index(ordered_rules, position, values[key], total)
		if demote_overdue and key in overdue:
			index = min(index + 1, len(ordered_rules) - 1)
		tiers[key] = ordered_rules[index].name
	return tiers


def _tier_index(rules: list[TierRule], position: int, value: float, total: int) -> int:
	for index, rule in enumerate(rules):
		within_share = rule.share is None or position < _share_positions(rule.share, total)
		above_threshold = rule.min_value is None or _sortable(value) >= rule.min_value
		if within_share and above_threshold:
			return index
	return len(rules) - 1


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
