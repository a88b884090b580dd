from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.customer_value.engine.tiers import (
	TierRule,
	assign_tiers,
	hex_color,
	sort_key,
	tier_cuts,
	tier_of,
)

SHARE_RULES = [
	TierRule("Platinum", 1, share=0.1),
	TierRule("Gold", 2, share=0.3),
	TierRule("Silver", 3, share=0.6),
	TierRule("Bronze", 4),
]
TEN_CUSTOMERS = {f"C{i:02d}": float(100 - i) for i in range(10)}


def test_shares_are_cumulative_from_the_top():
	tiers = assign_tiers(TEN_CUSTOMERS, SHARE_RULES)
	assert Counter(tiers.values()) == {"Platinum": 1, "Gold": 2, "Silver": 3, "Bronze": 4}
	assert tiers["C00"] == "Platinum"
	assert tiers["C09"] == "Bronze"


def test_rules_are_applied_in_rank_order_whatever_order_they_come_in():
	assert assign_tiers(TEN_CUSTOMERS, list(reversed(SHARE_RULES))) == assign_tiers(
		TEN_CUSTOMERS, SHARE_RULES
	)


def test_min_value_thresholds_assign_by_value():
	rules = [TierRule("A", 1, min_value=1000), TierRule("B", 2, min_value=100), TierRule("C", 3)]
	tiers = assign_tiers({"x": 5000.0, "y": 1000.0, "z": 999.99, "w": -5.0}, rules)
	assert tiers == {"x": "A", "y": "A", "z": "B", "w": "C"}


def test_share_and_threshold_on_one_rule_must_both_hold():
	rules = [TierRule("Top", 1, share=0.5, min_value=50), TierRule("Rest", 2)]
	tiers = assign_tiers({"a": 60.0, "b": 40.0, "c": 30.0, "d": 20.0}, rules)
	assert tiers == {"a": "Top", "b": "Rest", "c": "Rest", "d": "Rest"}


def test_customers_qualifying_for_no_rule_get_the_lowest_tier():
	rules = [TierRule("A", 1, min_value=100), TierRule("B", 2, min_value=50)]
	assert assign_tiers({"poor": 1.0}, rules) == {"poor": "B"}


def test_ties_are_broken_by_customer_key():
	rules = [TierRule("Top", 1, share=0.5), TierRule("Rest", 2)]
	tiers = assign_tiers({"b": 10.0, "a": 10.0, "d": 10.0, "c": 10.0}, rules)
	assert tiers == {"a": "Top", "b": "Top", "c": "Rest", "d": "Rest"}


def test_missing_values_rank_last():
	rules = [TierRule("Top", 1, share=0.5), TierRule("Rest", 2)]
	assert assign_tiers({"a": float("nan"), "b": 0.0}, rules) == {"a": "Rest", "b": "Top"}


def test_overdue_customers_drop_one_tier_only_when_the_flag_is_set():
	overdue = {"C00", "C09"}
	kept = assign_tiers(TEN_CUSTOMERS, SHARE_RULES, overdue=overdue)
	demoted = assign_tiers(TEN_CUSTOMERS, SHARE_RULES, overdue=overdue, demote_overdue=True)
	assert kept["C00"] == "Platinum"
	assert demoted["C00"] == "Gold"
	assert demoted["C09"] == "Bronze"
	assert {k: v for k, v in demoted.items() if k not in overdue} == {
		k: v for k, v in kept.items() if k not in overdue
	}


def test_rules_from_child_table_rows_treat_blank_or_zero_share_as_unset():
	rows = [
		{"name": "Key", "rank": 1, "share": 0.25, "min_value": ""},
		{"name": "Other", "rank": "2", "share": 0, "min_value": None},
	]
	assert TierRule.from_mapping(rows[1]) == TierRule("Other", 2)
	tiers = assign_tiers({"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}, rows)
	assert tiers == {"a": "Key", "b": "Other", "c": "Other", "d": "Other"}


@pytest.mark.parametrize(
	"rules",
	[[], [TierRule("A", 1), TierRule("B", 1)], [TierRule("A", 1, share=1.5)]],
)
def test_invalid_rules_are_rejected(rules):
	with pytest.raises(ValueError):
		assign_tiers({"a": 1.0}, rules)


def test_no_customers_gives_no_tiers():
	assert assign_tiers({}, SHARE_RULES) == {}


@given(
	st.dictionaries(st.text(max_size=4), st.floats(-1e6, 1e6, allow_nan=False), max_size=80),
	st.sets(st.text(max_size=4)),
	st.booleans(),
)
def test_every_customer_gets_exactly_one_configured_tier(values, overdue, demote):
	tiers = assign_tiers(values, SHARE_RULES, overdue=overdue, demote_overdue=demote)
	assert tiers.keys() == values.keys()
	assert set(tiers.values()) <= {rule.name for rule in SHARE_RULES}


@given(st.dictionaries(st.text(max_size=4), st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=80))
def test_a_higher_value_never_gets_a_lower_tier_and_the_top_share_is_respected(values):
	tiers = assign_tiers(values, SHARE_RULES)
	rank = {rule.name: rule.rank for rule in SHARE_RULES}
	ordered = sorted(values, key=lambda key: (-values[key], key))
	assert all(rank[tiers[a]] <= rank[tiers[b]] for a, b in pairwise(ordered))
	assert sum(tier == "Platinum" for tier in tiers.values()) == (len(values) + 5) // 10


MIXED_RULES = [
	TierRule("Platinum", 1, share=0.05, min_value=10.0),
	TierRule("Gold", 2, min_value=500.0),
	TierRule("Silver", 3, share=0.5),
	TierRule("Bronze", 4),
]


def tiers_by_position(values, rules, overdue, demote):
	"""The documented rule, by each customer's position in the whole ordered population."""
	ordered = sorted(values, key=lambda key: (-values[key], str(key)))
	rules = sorted(rules, key=lambda rule: rule.rank)
	tiers = {}
	for position, key in enumerate(ordered):
		index = next(
			(
				i
				for i, rule in enumerate(rules)
				if (rule.share is None or position < int(rule.share * len(ordered) + 0.5 + 1e-9))
				and (rule.min_value is None or values[key] >= rule.min_value)
			),
			len(rules) - 1,
		)
		if demote and key in overdue:
			index = min(index + 1, len(rules) - 1)
		tiers[key] = rules[index].name
	return tiers


@given(
	st.dictionaries(
		st.text(max_size=3), st.sampled_from([0.0, 5.0, 20.0, 600.0]) | st.floats(-1e3, 1e4), max_size=60
	),
	st.sets(st.text(max_size=3)),
	st.booleans(),
	st.integers(1, 9),
)
def test_tiering_a_chunk_at_a_time_from_the_share_cut_customers_matches_the_positional_rule(
	values, overdue, demote, chunk
):
	ordered = sorted(values, key=lambda key: sort_key(values[key], key))
	looked_up = []

	def key_at(position):
		looked_up.append(position)
		return sort_key(values[ordered[position]], ordered[position])

	cuts = tier_cuts(MIXED_RULES, len(values), key_at)
	keys = list(values)
	chunked = {}
	for start in range(0, len(keys), chunk):
		for key in keys[start : start + chunk]:
			chunked[key] = tier_of(cuts, values[key], key, key in overdue, demote)
	assert chunked == tiers_by_position(values, MIXED_RULES, overdue, demote)
	assert len(looked_up) <= 2  # one customer per share rule, not the population


@pytest.mark.parametrize("value", ["#fff", "#FFFA", "#1f77B4", "#1f77b4cc", " #abc "])
def test_hex_colours_are_kept(value):
	assert hex_color(value) == value.strip()


@pytest.mark.parametrize(
	"value", [None, "", "red", "#12345", "#ggg", 'red;"><img src=x onerror=alert(1)>', "#fff;color:red"]
)
def test_anything_but_a_hex_colour_is_dropped(value):
	assert hex_color(value) is None
