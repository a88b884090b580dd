from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_extension.lead_scoring.engine.decay import decay_factor
from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.rules import (
	BETWEEN_NEEDS_TWO_BOUNDS,
	FIELD_NOT_NUMERIC,
	HALF_LIFE_NOT_POSITIVE,
	UNKNOWN_FIELD,
	UNKNOWN_OPERATOR,
	EngagementRule,
	FitRule,
	InactivityRule,
	check_fit_rule_fields,
	field_matches,
	parse_rules,
	rule_from_mapping,
	score_lead,
)

AS_OF = datetime(2024, 6, 1, 12, 0)
LEAD = {
	"source": "Referral",
	"industry": "Manufacturing",
	"annual_revenue": 2_500_000,
	"no_of_employees": "51-200",
	"email_id": "buyer@example.com",
	"website": "",
	"unsubscribed": 0,
	"company_name": "Acme Industrial Supplies",
	"creation": AS_OF - timedelta(days=100),
}


def item(days_ago, channel="WhatsApp", direction="Inbound", outcome=None):
	return {
		"channel": channel,
		"direction": direction,
		"outcome": outcome,
		"at": AS_OF - timedelta(days=days_ago),
	}


def fit(operator, value=None, field="source", points=10.0):
	return FitRule(id="R", label="rule", points=points, field=field, operator=operator, value=value)


@pytest.mark.parametrize(
	("field", "operator", "value", "expected"),
	[
		("source", "equals", "referral", True),
		("source", "equals", "Website", False),
		("unsubscribed", "equals", "1", False),
		("unsubscribed", "equals", "0", True),
		("source", "not equals", "Website", True),
		("territory", "not equals", "Iran", True),
		("source", "in", ("Website", "Referral"), True),
		("source", "not in", ("Website", "Referral"), False),
		("annual_revenue", "between", (1_000_000, 2_500_000), True),
		("annual_revenue", "between", (0, 1_000_000), False),
		("annual_revenue", "greater than", 1_000_000, True),
		("annual_revenue", "less than", 1_000_000, False),
		("industry", "greater than", 5, False),
		("territory", "less than", 5, False),
		("email_id", "is set", None, True),
		("website", "is set", None, False),
		("website", "is not set", None, True),
		("territory", "is not set", None, True),
		("company_name", "contains", "INDUSTRIAL", True),
		("company_name", "contains", "Logistics", False),
		("territory", "contains", "x", False),
	],
)
def test_fit_operators_compare_lead_fields(field, operator, value, expected):
	assert fit(operator, value, field=field).matches(LEAD) is expected


def test_fit_rules_add_their_points_when_they_match():
	rules = [fit("equals", "Referral", points=20), fit("is set", field="website", points=5)]

	result = score_lead(LEAD, [], rules, AS_OF)

	assert result.score == 20
	assert [(c.label, c.points) for c in result.breakdown] == [("rule", 20)]


def test_engagement_points_decay_with_the_items_age():
	rule = EngagementRule(
		"E", "replied on WhatsApp", 20, channel="whatsapp", direction="Inbound", half_life_days=10
	)

	fresh = score_lead(LEAD, [item(0)], [rule], AS_OF)
	one_half_life = score_lead(LEAD, [item(10)], [rule], AS_OF)
	two_half_lives = score_lead(LEAD, [item(20)], [rule], AS_OF)

	assert (fresh.score, one_half_life.score, two_half_lives.score) == (20, 10, 5)


def test_engagement_rules_match_channel_direction_and_outcome():
	rule = EngagementRule("E", "meeting held", 15, outcome="Meeting Held", half_life_days=None)
	feed = [item(1, "Meeting", "Outbound", "Meeting Held"), item(1, "Meeting", "Outbound", "No Response")]

	result = score_lead(LEAD, feed, [rule], AS_OF)

	assert result.score == 15
	assert result.breakdown[0].matched_items == 1
	assert result.breakdown[0].latest_at == AS_OF - timedelta(days=1)


def test_items_after_as_of_or_without_a_time_do_not_count():
	rule = EngagementRule("E", "any", 10, half_life_days=None)
	feed = [item(-1), {"channel": "Email", "direction": "Inbound", "at": None}]

	assert score_lead(LEAD, feed, [rule], AS_OF).score == 0


def test_engagement_points_are_capped_per_rule():
	rule = EngagementRule("E", "replies", 10, direction="Inbound", half_life_days=None, max_points=25)

	result = score_lead(LEAD, [item(day) for day in range(5)], [rule], AS_OF)

	assert result.score == 25
	assert result.breakdown[0].matched_items == 5


def test_negative_engagement_rules_lower_the_score_and_their_cap_bounds_the_loss():
	positive = fit("equals", "Referral", points=50)
	bounced = EngagementRule("B", "bounced", -20, outcome="Bounced", half_life_days=None, max_points=30)
	feed = [item(day, "Email", "Outbound", "Bounced") for day in (1, 2, 3)]

	result = score_lead(LEAD, feed, [positive, bounced], AS_OF)

	assert result.score == 20
	assert [(c.rule_id, c.points) for c in result.breakdown] == [("R", 50), ("B", -30)]


def test_no_activity_for_n_days_fires_only_when_the_last_contact_is_that_old():
	idle = InactivityRule("I", "no activity for 30 days", -10, days=30)
	base = fit("is set", field="email_id", points=40)

	assert score_lead(LEAD, [item(31)], [base, idle], AS_OF).score == 30
	assert score_lead(LEAD, [item(29)], [base, idle], AS_OF).score == 40
	# Internal notes are not contact with the lead.
	assert score_lead(LEAD, [item(1, "Note", "Internal")], [base, idle], AS_OF).score == 30


def test_a_new_lead_without_activity_is_not_idle_yet():
	idle = InactivityRule("I", "no activity for 30 days", -10, days=30)
	new_lead = {**LEAD, "creation": AS_OF - timedelta(days=2)}
	base = fit("is set", field="email_id", points=40)

	assert score_lead(new_lead, [], [base, idle], AS_OF).score == 40
	assert score_lead({**LEAD, "creation": None}, [], [base, idle], AS_OF).score == 30


def test_score_is_clamped_to_0_100_and_keeps_the_raw_sum():
	high = score_lead(
		LEAD, [], [fit("equals", "Referral", points=80), fit("is set", field="email_id", points=70)], AS_OF
	)
	low = score_lead(LEAD, [], [fit("equals", "Referral", points=-80)], AS_OF)

	assert (high.score, high.raw_points) == (100, 150)
	assert (low.score, low.raw_points) == (0, -80)


def test_breakdown_is_sorted_by_magnitude_and_leaves_out_rules_that_gave_nothing():
	rules = [
		fit("equals", "Referral", points=5),
		FitRule("N", "unsubscribed", -30, "unsubscribed", "equals", 0),
		FitRule("Z", "no match", 50, "source", "equals", "Website"),
		FitRule("M", "revenue", 12, "annual_revenue", "greater than", 1),
	]

	breakdown = score_lead(LEAD, [], rules, AS_OF).breakdown_dicts()

	assert [(row["rule_id"], row["points"]) for row in breakdown] == [("N", -30), ("M", 12), ("R", 5)]


@pytest.mark.parametrize(
	("build", "template"),
	[
		(lambda: fit("resembles", "x"), UNKNOWN_OPERATOR),
		(lambda: fit("between", (1,), field="annual_revenue"), BETWEEN_NEEDS_TWO_BOUNDS),
		(lambda: fit("between", (1, None), field="annual_revenue"), BETWEEN_NEEDS_TWO_BOUNDS),
		(lambda: EngagementRule("E", "e", 5, half_life_days=0), HALF_LIFE_NOT_POSITIVE),
		(lambda: EngagementRule("E", "e", 5, half_life_days=-3), HALF_LIFE_NOT_POSITIVE),
	],
)
def test_invalid_rules_are_refused_with_a_translatable_message(build, template):
	with pytest.raises(LeadScoringError) as raised:
		build()

	assert raised.value.template == template
	assert raised.value.params["rule"] == "R" or raised.value.params["rule"] == "E"


def test_other_invalid_definitions_are_refused():
	bad = [
		lambda: fit("between", (10, 1), field="annual_revenue"),
		lambda: fit("greater than", "many", field="annual_revenue"),
		lambda: fit("equals", ""),
		lambda: fit("in", ()),
		lambda: FitRule("R", "r", 1, "", "is set"),
		lambda: FitRule("R", "r", "ten", "source", "is set"),
		lambda: EngagementRule("E", "e", 5, max_points=0),
		lambda: EngagementRule("E", "e", 5, direction="Sideways"),
		lambda: InactivityRule("I", "i", -5, days=0),
	]
	for build in bad:
		with pytest.raises(LeadScoringError):
			build()


def test_rules_are_built_from_doctype_rows():
	rows = [
		{
			"name": "R1",
			"label": "Good sources",
			"rule_type": "Fit",
			"field": "source",
			"operator": "in",
			"value": "Referral\nPartner",
			"points": "15",
		},
		{
			"name": "R2",
			"rule_type": "Fit",
			"field": "annual_revenue",
			"operator": "between",
			"value": "1000000",
			"value_to": 5000000,
			"points": 10,
		},
		{
			"name": "R3",
			"rule_type": "Engagement",
			"channel": "WhatsApp",
			"direction": "Inbound",
			"points": 20,
			"half_life_days": 7,
			"max_points": 0,
		},
		{"name": "R4", "rule_type": "Inactivity", "inactive_days": 30, "points": -10},
	]

	r1, r2, r3, r4 = (rule_from_mapping(row) for row in rows)

	assert (r1.value, r1.points, r1.label) == (("Referral", "Partner"), 15.0, "Good sources")
	assert r2.value == (1_000_000, 5_000_000)
	assert (r3.half_life_days, r3.max_points, r3.label) == (7, None, "R3")
	assert (r4.days, r4.points) == (30, -10)


def test_broken_and_disabled_rows_are_left_out_without_stopping_the_rest():
	rows = [
		{"name": "ok", "field": "source", "operator": "equals", "value": "Referral", "points": 10},
		{"name": "broken", "field": "source", "operator": "like", "value": "x", "points": 10},
		{"name": "off", "field": "source", "operator": "is set", "points": 10, "enabled": 0},
		{"name": "odd type", "rule_type": "Astrology", "points": 1},
	]

	parsed = parse_rules(rows)

	assert [rule.id for rule in parsed.rules] == ["ok"]
	assert [(name, error.template) for name, error in parsed.errors] == [
		("broken", UNKNOWN_OPERATOR),
		("odd type", "Rule {rule}: unknown rule type {rule_type}"),
	]


def test_fit_rules_on_unknown_or_wrongly_typed_fields_name_the_field():
	fieldtypes = {"source": "Link", "annual_revenue": "Currency"}
	check_fit_rule_fields(fit("greater than", 5, field="annual_revenue"), fieldtypes)

	with pytest.raises(LeadScoringError) as unknown:
		check_fit_rule_fields(fit("equals", "x", field="shoe_size"), fieldtypes)
	with pytest.raises(LeadScoringError) as wrong_type:
		check_fit_rule_fields(fit("greater than", 5, field="source"), fieldtypes)

	assert (unknown.value.template, unknown.value.params["field"]) == (UNKNOWN_FIELD, "shoe_size")
	assert (wrong_type.value.template, wrong_type.value.params["fieldtype"]) == (FIELD_NOT_NUMERIC, "Link")


# --- properties ---

points = st.floats(-200, 200, allow_nan=False)
rule_sets = st.lists(
	st.one_of(
		st.builds(
			lambda p, v: FitRule("F", "f", p, "source", "equals", v),
			points,
			st.sampled_from(["Referral", "Website"]),
		),
		st.builds(
			lambda p, h, c: EngagementRule("E", "e", p, half_life_days=h, max_points=c),
			points,
			st.one_of(st.none(), st.floats(0.1, 365)),
			st.one_of(st.none(), st.floats(1, 100)),
		),
		st.builds(lambda p, d: InactivityRule("I", "i", p, days=d), points, st.floats(1, 400)),
	),
	max_size=8,
)
feeds = st.lists(
	st.builds(
		item,
		st.floats(0, 400),
		st.sampled_from(["Email", "WhatsApp"]),
		st.sampled_from(["Inbound", "Outbound"]),
	),
	max_size=15,
)


@settings(max_examples=150, deadline=None)
@given(rule_sets, feeds)
def test_score_is_always_within_0_and_100(rules, feed):
	result = score_lead(LEAD, feed, rules, AS_OF)

	assert 0 <= result.score <= 100
	assert result.score == pytest.approx(min(max(result.raw_points, 0), 100), abs=0.01)


@given(st.floats(0, 1000), st.floats(0, 1000), st.floats(0.01, 1000))
def test_decay_never_grows_with_age(age_a, age_b, half_life):
	younger, older = sorted((age_a, age_b))

	assert decay_factor(older, half_life) <= decay_factor(younger, half_life)


@given(st.floats(0, 500), st.floats(0.5, 500))
def test_one_more_half_life_halves_the_points(age, half_life):
	assert decay_factor(age + half_life, half_life) == pytest.approx(
		decay_factor(age, half_life) / 2, rel=1e-9
	)


@given(st.floats(0.5, 100), st.floats(0, 300), st.floats(1, 200))
def test_engagement_points_at_one_half_life_are_half_the_fresh_points(rule_points, age, half_life):
	rule = EngagementRule("E", "e", rule_points, half_life_days=half_life)
	fresh = score_lead(LEAD, [item(age)], [rule], AS_OF).raw_points
	later = score_lead(LEAD, [item(age + half_life)], [rule], AS_OF).raw_points

	assert later == pytest.approx(fresh / 2, abs=0.01)


@settings(max_examples=100, deadline=None)
@given(
	st.lists(
		st.one_of(st.none(), st.sampled_from(["Referral", " referral", "1", "Website"]), st.integers(0, 2)),
		max_size=12,
	)
)
def test_a_fit_rule_answers_the_same_for_a_value_it_has_seen_before(values):
	rule = fit("in", ("Referral", "1"))

	answers = [rule.matches({"source": value}) for value in values + values]

	assert answers == [field_matches(value, "in", ("Referral", "1")) for value in values + values]


def test_a_fit_rule_compares_an_unhashable_value_without_remembering_it():
	rule = fit("is set")

	assert rule.matches({"source": ["Referral"]}) and not rule.matches({"source": []})
