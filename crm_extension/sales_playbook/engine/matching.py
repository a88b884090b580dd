"""Which playbook guides an Opportunity.

A playbook's conditions (``PlaybookConditions``) are all optional; an unset one matches anything and a set one must
hold: same opportunity type, customer tier and persona; the sales stage inside the inclusive range
``from_stage``..``to_stage`` of the ordered stage list (either end may be open); the amount inside the inclusive
``min_amount``..``max_amount``; the condition's territory equal to the Opportunity's territory or one of its
ancestors. A condition on a value the Opportunity lacks (no persona, no amount, a stage outside the list) fails.

Among the non-default playbooks that match, the most specific wins (the most conditions set, each range counting
once), then the highest priority, then the name. Default playbooks are the fallback: when no other playbook
matches, the default with the highest priority applies whatever its conditions.
"""

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from crm_extension.sales_playbook.engine.knowledge import SALES_STAGES, PlaybookConditions
from crm_extension.sales_playbook.engine.state import OpportunityState


class Candidate(Protocol):
	name: str
	priority: int
	is_default: bool
	conditions: PlaybookConditions


C = TypeVar("C", bound=Candidate)


def choose_playbook(
	candidates: Iterable[C], state: OpportunityState, stages: Sequence[str] = SALES_STAGES
) -> C | None:
	"""The playbook that applies to ``state``, or None when nothing matches and there is no default."""
	ranked = rank_playbooks(candidates, state, stages)
	return ranked[0] if ranked else None


def rank_playbooks(
	candidates: Iterable[C], state: OpportunityState, stages: Sequence[str] = SALES_STAGES
) -> list[C]:
	"""Matching non-default playbooks, best first; the defaults, best first, when none matches."""
	candidates = list(candidates)
	matching = [c for c in candidates if not c.is_default and conditions_match(c.conditions, state, stages)]
	if matching:
		return sorted(matching, key=lambda c: (-specificity(c.conditions), -c.priority, c.name))
	return sorted((c for c in candidates if c.is_default), key=lambda c: (-c.priority, c.name))


def conditions_match(
	conditions: PlaybookConditions, state: OpportunityState, stages: Sequence[str] = SALES_STAGES
) -> bool:
	return (
		_equal_or_unset(conditions.opportunity_type, state.opportunity_type)
		and _equal_or_unset(conditions.customer_tier, state.customer_tier)
		and _equal_or_unset(conditions.persona, state.persona)
		and _stage_in_range(conditions, state.sales_stage, stages)
		and _amount_in_range(conditions, state.amount)
		and (conditions.territory is None or conditions.territory in state.territories)
	)


def specificity(conditions: PlaybookConditions) -> int:
	"""How many conditions are set; a stage or amount range counts once however many ends it sets."""
	single = (conditions.opportunity_type, conditions.customer_tier, conditions.persona, conditions.territory)
	ranges = (
		(conditions.from_stage, conditions.to_stage),
		(conditions.min_amount, conditions.max_amount),
	)
	return sum(value is not None for value in single) + sum(any(e is not None for e in r) for r in ranges)


def _equal_or_unset(required: str | None, actual: str | None) -> bool:
	return required is None or required == actual


def _stage_in_range(conditions: PlaybookConditions, stage: str, stages: Sequence[str]) -> bool:
	if conditions.from_stage is None and conditions.to_stage is None:
		return True
	if stage not in stages:
		return False
	position = stages.index(stage)
	after_start = conditions.from_stage is None or position >= _position(conditions.from_stage, stages)
	before_end = conditions.to_stage is None or position <= _position(conditions.to_stage, stages)
	return after_start and before_end


def _position(stage: str, stages: Sequence[str]) -> float:
	# A bound outside the list (a stage since deleted) can never be satisfied from either side.
	return stages.index(stage) if stage in stages else float("nan")


def _amount_in_range(conditions: PlaybookConditions, amount: float | None) -> bool:
	if conditions.min_amount is None and conditions.max_amount is None:
		return True
	if amount is None:
		return False
	above_min = conditions.min_amount is None or amount >= conditions.min_amount
	below_max = conditions.max_amount is None or amount <= conditions.max_amount
	return above_min and below_max
