from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.activity_log.engine.feed import INBOUND, INTERNAL, OUTBOUND
from crm_extension.sales_playbook.engine.knowledge import PlaybookStep, Text, load_knowledge
from crm_extension.sales_playbook.engine.progress import DONE, OpportunityStep, schedule_steps
from crm_extension.sales_playbook.engine.recommend import (
	ClosedDeal,
	RecommendSettings,
	Tally,
	cautious_score,
	detect_stall,
	learn_win_rates,
	rank_next_actions,
	rank_techniques,
	recommend,
	smoothed_rate,
)
from crm_extension.sales_playbook.engine.state import OpportunityState

AS_OF = datetime(2024, 5, 20, 10, 0)
TODAY = AS_OF.date()


@pytest.fixture(scope="module")
def knowledge():
	return load_knowledge()


def deals(technique, wins, total, persona="Driver", playbook=None, steps=()):
	return [ClosedDeal(i < wins, persona, technique, playbook, frozenset(steps)) for i in range(total)]


def names(ranked):
	return [technique.name for technique in ranked]


def feed_item(direction, days_ago, channel="Email"):
	return {
		"channel": channel,
		"direction": direction,
		"outcome": None,
		"at": AS_OF - timedelta(days=days_ago),
	}


def step(key, stage, mandatory=True, days=3):
	title = Text(en=key, fa=f"گام {key}")
	return PlaybookStep(key, stage, title, "call", "Phone", due_after_days=days, mandatory=mandatory)


# --- closing techniques ---


def test_without_history_techniques_follow_the_personas_suitability(knowledge):
	for persona in knowledge.personas.values():
		ranked = rank_techniques(knowledge, persona.name, learn_win_rates([]))
		weights = [persona.suitability[name] for name in names(ranked)]

		assert weights == sorted(weights, reverse=True), persona.name


def test_amiable_and_analytical_buyers_are_not_offered_pressure_first(knowledge):
	rates = learn_win_rates([])

	assert names(rank_techniques(knowledge, "Amiable", rates))[0] == "Soft Close"
	assert names(rank_techniques(knowledge, "Analytical", rates))[-1] == "Now-or-Never"


def test_three_wins_of_three_do_not_beat_sixty_of_a_hundred(knowledge):
	# Driver rates Take-Away and Question equally (0.5), so only the evidence differs.
	rates = learn_win_rates(deals("Take-Away", 3, 3) + deals("Question", 60, 100))

	ranked = {t.name: t for t in rank_techniques(knowledge, "Driver", rates)}

	assert ranked["Question"].score > ranked["Take-Away"].score
	assert (ranked["Question"].wins, ranked["Question"].deals) == (60, 100)
	assert (
		ranked["Question"].reason.template == "{technique} won {wins} of {deals} deals with {persona} buyers"
	)


def test_a_long_winning_record_overrides_the_shipped_suitability(knowledge):
	rates = learn_win_rates(deals("Soft Close", 45, 50) + deals("Sharp Angle", 15, 50))

	assert names(rank_techniques(knowledge, "Driver", rates))[0] == "Soft Close"


def test_a_handful_of_losses_does_not_sink_a_well_suited_technique(knowledge):
	background = deals("Question", 20, 40)
	before = {t.name: t for t in rank_techniques(knowledge, "Driver", learn_win_rates(background))}

	after = rank_techniques(knowledge, "Driver", learn_win_rates(deals("Sharp Angle", 0, 2) + background))
	sharp_angle = next(t for t in after if t.name == "Sharp Angle")

	# Unsmoothed, 0 of 2 would be a 0 % win rate.
	assert before["Sharp Angle"].win_rate - sharp_angle.win_rate < 0.08
	assert sharp_angle.win_rate > 0.5
	assert names(after).index("Sharp Angle") < min(names(after).index(n) for n in ("Take-Away", "Soft Close"))


def test_history_with_other_personas_does_not_count_for_this_persona(knowledge):
	rates = learn_win_rates(deals("Now-or-Never", 40, 40, persona="Driver"))

	amiable = {t.name: t for t in rank_techniques(knowledge, "Amiable", rates)}
	anyone = {t.name: t for t in rank_techniques(knowledge, None, rates)}

	assert amiable["Now-or-Never"].deals == 0
	assert anyone["Now-or-Never"].deals == 40


def test_competitors_and_an_early_stage_steer_the_choice_with_reasons(knowledge):
	early_with_rival = OpportunityState("Qualification", persona="Driver", competitors=("Acme Co",))

	result = recommend(early_with_rival, (), knowledge, AS_OF)
	top = result.techniques[0]

	assert names(result.techniques)[-1] in {"Now-or-Never", "Soft Close"}
	assert top.name == "Summary"
	assert top.reason.template == "Competitors are in play: {competitors}"
	assert top.reason.params == {"competitors": "Acme Co"}


def test_a_silent_buyer_gets_a_low_pressure_close(knowledge):
	silent_feed = (*(feed_item(OUTBOUND, days) for days in (2, 5, 9)), feed_item(INBOUND, 20))
	talking_feed = (feed_item(OUTBOUND, 3), feed_item(INBOUND, 2), feed_item(INTERNAL, 1))
	stage = "Negotiation/Review"

	silent = recommend(
		OpportunityState(stage, persona="Expressive", recent_feed=silent_feed), (), knowledge, AS_OF
	)
	talking = recommend(
		OpportunityState(stage, persona="Expressive", recent_feed=talking_feed), (), knowledge, AS_OF
	)

	silent_rank, talking_rank = names(silent.techniques), names(talking.techniques)
	assert silent_rank.index("Assumptive") > talking_rank.index("Assumptive")
	assert any(r.params.get("count") == 3 for t in silent.techniques for r in t.reasons)


def test_key_accounts_are_not_offered_a_take_away(knowledge):
	settings = RecommendSettings(key_account_tiers=frozenset({"Platinum"}))
	state = OpportunityState("Negotiation/Review", persona="Driver", customer_tier="Platinum")

	ranked = names(recommend(state, (), knowledge, AS_OF, settings=settings).techniques)

	assert ranked.index("Take-Away") > ranked.index("Summary")
	assert ranked.index("Take-Away") >= 5


@given(st.integers(0, 40), st.integers(0, 40), st.floats(0.05, 0.95))
def test_smoothed_rate_lies_between_the_prior_and_the_observed_rate(wins, losses, prior):
	tally = Tally(wins, wins + losses)
	rate = smoothed_rate(tally, prior, 20)
	observed = wins / tally.deals if tally.deals else prior

	assert min(prior, observed) - 1e-12 <= rate <= max(prior, observed) + 1e-12


@given(st.integers(0, 60), st.integers(0, 60), st.floats(0.05, 0.95))
def test_one_more_win_never_lowers_the_score(wins, losses, prior):
	settings = RecommendSettings()
	tally = Tally(wins, wins + losses)

	assert cautious_score(tally.add(True), prior, settings) >= cautious_score(tally, prior, settings)


@given(
	st.lists(st.tuples(st.booleans(), st.sampled_from(["Summary", "Question", "Soft Close"])), max_size=40)
)
def test_technique_ranking_does_not_depend_on_history_order(history):
	knowledge = load_knowledge()
	closed = [ClosedDeal(won, "Analytical", technique) for won, technique in history]

	forward = rank_techniques(knowledge, "Analytical", learn_win_rates(closed))
	backward = rank_techniques(knowledge, "Analytical", learn_win_rates(reversed(closed)))

	assert forward == backward
	assert len(forward) == 7


# --- next actions ---


def test_next_actions_put_overdue_first_then_mandatory_then_order(knowledge):
	playbook = (
		step("call", "Qualification", mandatory=False, days=2),
		step("mail", "Qualification", mandatory=False, days=10),
		step("must", "Qualification", mandatory=True, days=1),
		step("later", "Needs Analysis", mandatory=True, days=1),
	)
	steps = schedule_steps(playbook, TODAY - timedelta(days=3))

	actions = rank_next_actions(steps, "Qualification", TODAY, knowledge.stages)

	assert [a.step.key for a in actions] == ["call", "must", "mail", "later"]
	assert actions[0].overdue_days == 1
	assert actions[0].reason.params == {"days": 1}
	assert actions[1].reason.template == "Mandatory step of {stage}"
	assert actions[3].reason.template == "Prepares the later stage {stage}"


def test_done_steps_are_not_next_actions(knowledge):
	steps = [OpportunityStep(s, status=DONE) for s in knowledge.default_playbook.steps[:3]]

	assert rank_next_actions(steps, "Qualification", TODAY, knowledge.stages) == ()


def test_step_win_rates_are_learned_per_playbook_and_smoothed(knowledge):
	history = deals(None, 18, 20, playbook="Default", steps=["needs-meeting"]) + deals(
		None, 2, 20, playbook="Default"
	)
	rates = learn_win_rates(history)
	steps = schedule_steps(knowledge.default_playbook.steps, TODAY)

	actions = {
		a.step.key: a
		for a in rank_next_actions(steps, "Prospecting", TODAY, knowledge.stages, rates, "Default")
	}

	assert 0.5 < actions["needs-meeting"].win_rate < 0.9
	assert actions["first-call"].win_rate is None
	assert (
		rank_next_actions(steps, "Prospecting", TODAY, knowledge.stages, rates, "Other")[0].win_rate is None
	)


# --- stalls ---


def test_a_deal_longer_in_a_stage_than_its_steps_allow_is_stalled(knowledge):
	steps = knowledge.default_playbook.steps  # Needs Analysis: 5 + 1 days

	assert detect_stall("Needs Analysis", 6, steps) is None
	stall = detect_stall("Needs Analysis", 7, steps)

	assert (stall.expected_days, stall.days_in_stage) == (6, 7)
	assert stall.reason.params == {"stage": "Needs Analysis", "days": 7, "expected": 6}


def test_a_stage_without_steps_uses_the_configured_default(knowledge):
	assert detect_stall("Custom Stage", 14, knowledge.default_playbook.steps, default_days=14) is None
	assert (
		detect_stall("Custom Stage", 15, knowledge.default_playbook.steps, default_days=14).expected_days
		== 14
	)


def test_recommend_flags_the_stall_and_favours_a_question(knowledge):
	state = OpportunityState("Perception Analysis", persona="Analytical", days_in_stage=30)
	steps = schedule_steps(knowledge.default_playbook.steps, date(2024, 4, 1))

	result = recommend(state, steps, knowledge, AS_OF)

	assert result.stall is not None and result.stall.expected_days == 5
	assert result.techniques[0].name == "Question"
	assert result.techniques[0].reason.template == "The deal has stalled in {stage}"
	assert result.next_actions[0].step.key == "introduction-email"
