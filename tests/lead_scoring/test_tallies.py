"""Scoring from tallies (what a database adds up per lead) gives what scoring the items gives."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_extension.lead_scoring.engine.decay import decay_factor
from crm_extension.lead_scoring.engine.rules import (
	EngagementRule,
	InactivityRule,
	rules_tally_query,
	score_lead,
	score_tallies,
	tally_feed,
)
from crm_extension.lead_scoring.engine.tallies import LeadTallies, merged, tallies_from_aggregates
from tests.lead_scoring.test_rules import AS_OF, LEAD, feeds, item, rule_sets

REPLIED = EngagementRule("R", "replied", 6, direction="Inbound", outcome="Replied", half_life_days=14)
WHATSAPP = EngagementRule("W", "whatsapp", 4, channel="WhatsApp", half_life_days=None, max_points=10)
IDLE = InactivityRule("I", "idle", -10, days=30)
IDLE_INBOUND = InactivityRule("J", "no reply", -10, days=90, direction="Inbound")


def _same_score(a, b):
	assert a.score == pytest.approx(b.score, abs=0.011)
	assert [(c.rule_id, c.matched_items, c.latest_at) for c in a.breakdown] == [
		(c.rule_id, c.matched_items, c.latest_at) for c in b.breakdown
	]
	for mine, theirs in zip(a.breakdown, b.breakdown, strict=True):
		assert mine.points == pytest.approx(theirs.points, abs=0.011)


@settings(max_examples=150, deadline=None)
@given(rule_sets, feeds, st.integers(0, 15))
def test_tallies_of_a_split_feed_merge_into_the_score_of_the_whole_feed(rules, feed, split):
	parts = [("L", tally_feed(feed[:split], rules, AS_OF)), ("L", tally_feed(feed[split:], rules, AS_OF))]

	from_parts = score_tallies(LEAD, merged(parts)["L"], rules, AS_OF)

	_same_score(from_parts, score_lead(LEAD, feed, rules, AS_OF))


def test_a_databases_aggregates_score_like_the_items_they_came_from():
	feed = [
		item(1, "WhatsApp", "Inbound", "Replied"),
		item(20, "whatsapp", "Outbound"),
		item(100, "Email", "Inbound", "Replied"),
	]
	rules = [REPLIED, WHATSAPP, IDLE, IDLE_INBOUND]
	query = rules_tally_query(rules)
	replied_decay = decay_factor(1, 14) + decay_factor(100, 14)
	aggregates = tallies_from_aggregates(
		query,
		[(replied_decay, 2, AS_OF - timedelta(days=1)), (2, 2, AS_OF - timedelta(days=1))],
		# contact direction sets in the query's (sorted) order: Inbound only, then Inbound and Outbound
		[AS_OF - timedelta(days=1), AS_OF - timedelta(days=1)],
	)

	assert query.contact_directions == (("Inbound",), ("Inbound", "Outbound"))
	_same_score(score_tallies(LEAD, aggregates, rules, AS_OF), score_lead(LEAD, feed, rules, AS_OF))


def test_a_rule_that_matched_nothing_in_the_aggregates_gives_no_points():
	query = rules_tally_query([REPLIED])

	tallies = tallies_from_aggregates(query, [(None, 0, None)], [])

	assert score_tallies(LEAD, tallies, [REPLIED], AS_OF).breakdown == ()


def test_equal_rules_share_one_tally_and_each_scores_it():
	twin = EngagementRule("W", "whatsapp", 4, channel="WhatsApp", half_life_days=None, max_points=10)
	feed = [item(1), item(2)]

	result = score_tallies(LEAD, tally_feed(feed, [WHATSAPP, twin], AS_OF), [WHATSAPP, twin], AS_OF)

	assert rules_tally_query([WHATSAPP, twin]).rules == (WHATSAPP,)
	assert [c.points for c in result.breakdown] == [8, 8]


def test_a_lead_with_no_tallies_is_idle_from_its_creation():
	fresh = {**LEAD, "creation": AS_OF - timedelta(days=3)}

	assert score_tallies(fresh, LeadTallies(), [IDLE], AS_OF).breakdown == ()
	assert score_tallies(LEAD, LeadTallies(), [IDLE], AS_OF).breakdown[0].points == -10


def test_merging_never_changes_the_tallies_it_was_given():
	first, second = tally_feed([item(1)], [WHATSAPP], AS_OF), tally_feed([item(2)], [WHATSAPP], AS_OF)

	together = merged([("L", first), ("L", second)])["L"]

	assert together.rules[WHATSAPP].count == 2
	assert (first.rules[WHATSAPP].count, second.rules[WHATSAPP].count) == (1, 1)


def test_a_rule_with_a_window_counts_only_the_items_of_its_last_days():
	clicked = EngagementRule(
		"C",
		"clicked a link lately",
		30,
		channel="Email",
		outcome="Clicked",
		half_life_days=None,
		within_days=14,
	)
	feed = [
		item(2, "Email", "Internal", "Clicked"),
		item(14, "Email", "Internal", "Clicked"),
		item(20, "Email", "Internal", "Clicked"),
		item(1, "Email", "Inbound", "Replied"),
	]
	tally = tally_feed(feed, [clicked], AS_OF).rules[clicked]
	assert (tally.count, tally.latest_at) == (2, AS_OF - timedelta(days=2))
	assert score_lead(LEAD, [item(20, "Email", "Internal", "Clicked")], [clicked], AS_OF).score == 0
	capped = EngagementRule(
		"K", "k", 30, outcome="Clicked", half_life_days=None, max_points=30, within_days=14
	)
	assert score_lead(LEAD, feed, [capped], AS_OF).score == 30


def test_a_window_is_part_of_a_rules_identity_and_must_be_positive():
	from crm_extension.lead_scoring.engine.errors import LeadScoringError
	from crm_extension.lead_scoring.engine.rules import rule_from_mapping

	row = {"name": "C", "rule_type": "Engagement", "points": 5, "outcome": "Clicked"}
	assert rule_from_mapping({**row, "within_days": 0}).within_days is None
	assert rule_from_mapping({**row, "within_days": 7}) != rule_from_mapping({**row, "within_days": 14})
	with pytest.raises(LeadScoringError):
		rule_from_mapping({**row, "within_days": -3})
