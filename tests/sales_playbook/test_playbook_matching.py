from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from crm_extension.sales_playbook.engine.knowledge import SALES_STAGES, PlaybookConditions
from crm_extension.sales_playbook.engine.matching import choose_playbook, conditions_match, rank_playbooks
from crm_extension.sales_playbook.engine.state import OpportunityState


@dataclass(frozen=True)
class Candidate:
	name: str
	conditions: PlaybookConditions = field(default_factory=PlaybookConditions)
	priority: int = 0
	is_default: bool = False


DEFAULT = Candidate("Default", is_default=True)


def state(stage="Qualification", **fields):
	return OpportunityState(sales_stage=stage, **fields)


def test_default_applies_when_nothing_else_matches():
	services = Candidate("Services", PlaybookConditions(opportunity_type="Services"))

	assert choose_playbook([services, DEFAULT], state(opportunity_type="Sales")) == DEFAULT


def test_default_applies_even_when_its_own_conditions_do_not_hold():
	narrow_default = Candidate("Default", PlaybookConditions(persona="Driver"), is_default=True)

	assert choose_playbook([narrow_default], state(persona="Amiable")) == narrow_default


def test_a_matching_specific_playbook_beats_the_default():
	drivers = Candidate("Drivers", PlaybookConditions(persona="Driver"))

	assert choose_playbook([DEFAULT, drivers], state(persona="Driver")) == drivers


def test_more_conditions_beat_higher_priority():
	broad = Candidate("Broad", PlaybookConditions(persona="Driver"), priority=100)
	narrow = Candidate("Narrow", PlaybookConditions(persona="Driver", customer_tier="Gold"))

	chosen = choose_playbook([broad, narrow, DEFAULT], state(persona="Driver", customer_tier="Gold"))

	assert chosen == narrow


def test_priority_breaks_a_tie_between_equally_specific_playbooks_then_the_name():
	low = Candidate("A low", PlaybookConditions(persona="Driver"), priority=1)
	high = Candidate("B high", PlaybookConditions(customer_tier="Gold"), priority=5)
	twin = Candidate("C high", PlaybookConditions(customer_tier="Gold"), priority=5)

	ranked = rank_playbooks([twin, low, high], state(persona="Driver", customer_tier="Gold"))

	assert [c.name for c in ranked] == ["B high", "C high", "A low"]


def test_amount_range_is_inclusive_and_needs_an_amount():
	mid_size = PlaybookConditions(min_amount=10_000, max_amount=50_000)

	assert conditions_match(mid_size, state(amount=10_000))
	assert conditions_match(mid_size, state(amount=50_000))
	assert not conditions_match(mid_size, state(amount=50_000.01))
	assert not conditions_match(mid_size, state(amount=9_999))
	assert not conditions_match(mid_size, state())
	assert conditions_match(PlaybookConditions(min_amount=1_000), state(amount=1e9))


def test_stage_range_follows_the_ordered_stage_list():
	middle = PlaybookConditions(from_stage="Needs Analysis", to_stage="Perception Analysis")

	assert conditions_match(middle, state("Needs Analysis"))
	assert conditions_match(middle, state("Identifying Decision Makers"))
	assert conditions_match(middle, state("Perception Analysis"))
	assert not conditions_match(middle, state("Qualification"))
	assert not conditions_match(middle, state("Negotiation/Review"))
	assert not conditions_match(middle, state("Some Custom Stage"))
	assert conditions_match(
		PlaybookConditions(from_stage="Proposal/Price Quote"), state("Negotiation/Review")
	)


def test_stage_range_uses_a_custom_stage_order():
	stages = ("Lead In", "Demo", "Contract")
	late = PlaybookConditions(from_stage="Demo")

	assert conditions_match(late, state("Contract"), stages)
	assert not conditions_match(late, state("Lead In"), stages)


def test_territory_condition_matches_the_territory_or_an_ancestor():
	iran = Candidate("Iran", PlaybookConditions(territory="Iran"))
	tehran = Candidate("Tehran", PlaybookConditions(territory="Tehran", persona="Driver"))
	in_tehran = state(territories=("Tehran", "Iran", "All Territories"), persona="Amiable")

	assert choose_playbook([iran, tehran, DEFAULT], in_tehran) == iran
	assert choose_playbook([iran, DEFAULT], state(territories=("Dubai", "All Territories"))) == DEFAULT


def test_no_candidates_and_no_default_choose_nothing():
	only = Candidate("Services", PlaybookConditions(opportunity_type="Services"))

	assert choose_playbook([only], state()) is None
	assert choose_playbook([], state()) is None


conditions_strategy = st.builds(
	PlaybookConditions,
	opportunity_type=st.sampled_from([None, "Sales", "Services"]),
	customer_tier=st.sampled_from([None, "Gold", "Silver"]),
	persona=st.sampled_from([None, "Driver", "Analytical"]),
	from_stage=st.sampled_from([None, *SALES_STAGES[:4]]),
	min_amount=st.sampled_from([None, 1_000.0, 20_000.0]),
)
state_strategy = st.builds(
	OpportunityState,
	sales_stage=st.sampled_from(SALES_STAGES),
	opportunity_type=st.sampled_from([None, "Sales", "Services"]),
	customer_tier=st.sampled_from([None, "Gold", "Silver"]),
	persona=st.sampled_from([None, "Driver", "Analytical"]),
	amount=st.sampled_from([None, 500.0, 5_000.0, 50_000.0]),
)


@given(st.lists(conditions_strategy, max_size=6), state_strategy, st.data())
def test_the_choice_matches_and_does_not_depend_on_candidate_order(conditions, opportunity, data):
	candidates = [Candidate(f"P{i}", c, priority=i % 3) for i, c in enumerate(conditions)] + [DEFAULT]
	shuffled = data.draw(st.permutations(candidates))

	chosen = choose_playbook(candidates, opportunity)

	assert chosen == choose_playbook(shuffled, opportunity)
	assert chosen is DEFAULT or conditions_match(chosen.conditions, opportunity)
	if chosen is DEFAULT:
		assert not any(conditions_match(c.conditions, opportunity) for c in candidates if not c.is_default)
