"""Next actions and closing techniques for an Opportunity, each with a short reason; stalled deals flagged.

**Next actions** are the open steps, ranked: overdue first (most overdue first), then steps of the current or an
earlier stage before steps of later stages, then mandatory before optional, then playbook order. When history
shows how deals went after a step was completed, the action carries that win rate.

**Closing techniques** start from the shipped knowledge and learn from closed deals (``ClosedDeal``):

1. baseline = (wins + 1) / (deals + 2) over all closed deals;
2. prior mean for technique × persona = baseline + ``suitability_spread`` × (suitability − 0.5), kept inside
   [0.05, 0.95]; suitability is the persona's weight for the technique (0.5 when it has none), or the average
   over personas when the Opportunity has no persona;
3. the prior is a Beta with ``prior_strength`` pseudo-deals at that mean, updated with the wins and losses of
   the technique with that persona (with any persona when the Opportunity has none): win_rate = posterior mean;
4. score = win_rate − ``caution`` × 0.5 / √(pseudo-deals + deals + 1), the posterior standard deviation at its
   widest, so thin evidence must be strong to beat thick evidence (3 of 3 does not beat 60 of 100);
5. the Opportunity's situation adds small adjustments (``CONTEXT_ADJUSTMENTS``): competitors in play, a stalled
   deal, an early or late stage, a buyer who replied lately or went silent, a key account or large amount.

Techniques are ranked by score, then name. Step win rates use the same smoothing, towards the playbook's own
baseline.

**Stalls**: an Opportunity is stalled when its days in the current stage exceed the days the playbook expects
there, the sum of ``due_after_days`` of that stage's steps (``default_stage_days`` when that is 0).
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from crm_extension.activity_log.engine.feed import INBOUND, OUTBOUND
from crm_extension.i18n import N_
from crm_extension.sales_playbook.engine.knowledge import BuyerPersona, Knowledge, PlaybookStep
from crm_extension.sales_playbook.engine.progress import OpportunityStep, stage_position
from crm_extension.sales_playbook.engine.state import OpportunityState

NEUTRAL_SUITABILITY = 0.5
MIN_PRIOR_MEAN = 0.05
MAX_PRIOR_MEAN = 0.95

COMPETITORS = "competitors"
STALLED = "stalled"
EARLY_STAGE = "early_stage"
LATE_STAGE = "late_stage"
ENGAGED = "engaged"
SILENT = "silent"
KEY_ACCOUNT = "key_account"

# Situation -> technique -> score adjustment. From the knowledge: urgency and assumptions need established value
# (not early), concessions belong to late stages, a take-away or pressure risks key accounts and pushes buyers
# with alternatives to a competitor, questions surface what stalls a deal, low-pressure closes suit silent buyers.
CONTEXT_ADJUSTMENTS: Mapping[str, Mapping[str, float]] = {
	COMPETITORS: {"Summary": 0.08, "Sharp Angle": 0.04, "Take-Away": -0.08, "Now-or-Never": -0.05},
	STALLED: {"Question": 0.08, "Now-or-Never": 0.05, "Assumptive": -0.05},
	EARLY_STAGE: {
		"Soft Close": 0.08,
		"Question": 0.05,
		"Now-or-Never": -0.1,
		"Sharp Angle": -0.08,
		"Assumptive": -0.05,
	},
	LATE_STAGE: {"Summary": 0.05, "Sharp Angle": 0.05, "Assumptive": 0.05, "Soft Close": -0.08},
	ENGAGED: {"Assumptive": 0.06},
	SILENT: {"Soft Close": 0.05, "Question": 0.05, "Assumptive": -0.08, "Now-or-Never": -0.05},
	KEY_ACCOUNT: {"Take-Away": -0.08, "Now-or-Never": -0.08, "Summary": 0.04},
}


@dataclass(frozen=True)
class RecommendSettings:
	prior_strength: float = 20.0
	caution: float = 1.645
	suitability_spread: float = 0.3
	min_deals_to_cite: int = 5
	default_stage_days: int = 14
	late_stage_from: str = "Proposal/Price Quote"
	engaged_within_days: int = 7
	silent_after_messages: int = 3
	key_account_tiers: frozenset[str] = frozenset()
	large_amount: float | None = None
	context_adjustments: Mapping[str, Mapping[str, float]] = field(
		default_factory=lambda: CONTEXT_ADJUSTMENTS
	)


DEFAULT_SETTINGS = RecommendSettings()


@dataclass(frozen=True)
class Reason:
	template: str
	params: dict = field(default_factory=dict)

	def text(self) -> str:
		"""English text, for logs and tests; the adapter translates ``template`` and formats it."""
		return self.template.format(**self.params)


@dataclass(frozen=True)
class ClosedDeal:
	"""A won or lost Opportunity: the persona, the closing technique used, its playbook and the steps done."""

	won: bool
	persona: str | None = None
	technique: str | None = None
	playbook: str | None = None
	completed_steps: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Tally:
	wins: int = 0
	deals: int = 0

	def add(self, won: bool) -> "Tally":
		return Tally(self.wins + int(won), self.deals + 1)


@dataclass(frozen=True)
class WinRates:
	"""Counts learned from history; build once with ``learn_win_rates`` and reuse for many Opportunities."""

	overall: Tally = Tally()
	by_technique: Mapping[str, Tally] = field(default_factory=dict)
	by_technique_persona: Mapping[tuple[str, str], Tally] = field(default_factory=dict)
	by_playbook: Mapping[str, Tally] = field(default_factory=dict)
	by_step: Mapping[tuple[str, str], Tally] = field(default_factory=dict)


@dataclass(frozen=True)
class RankedTechnique:
	name: str
	score: float
	win_rate: float
	prior_win_rate: float
	wins: int
	deals: int
	reason: Reason
	reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class RankedAction:
	step: OpportunityStep
	overdue_days: int
	reason: Reason
	win_rate: float | None = None


@dataclass(frozen=True)
class Stall:
	stage: str
	days_in_stage: int
	expected_days: int
	reason: Reason


@dataclass(frozen=True)
class Recommendation:
	next_actions: tuple[RankedAction, ...]
	techniques: tuple[RankedTechnique, ...]
	stall: Stall | None


# --- the whole recommendation ---


def recommend(
	state: OpportunityState,
	steps: Sequence[OpportunityStep],
	knowledge: Knowledge,
	as_of: datetime,
	rates: WinRates | None = None,
	playbook: str | None = None,
	settings: RecommendSettings = DEFAULT_SETTINGS,
) -> Recommendation:
	"""``as_of`` has the same tz-awareness as the feed's ``at``; its date decides which steps are overdue."""
	rates = rates or WinRates()
	stall = detect_stall(
		state.sales_stage, state.days_in_stage, [s.step for s in steps], settings.default_stage_days
	)
	situations = detect_situations(state, as_of, knowledge.stages, stall is not None, settings)
	return Recommendation(
		next_actions=rank_next_actions(
			steps, state.sales_stage, as_of.date(), knowledge.stages, rates, playbook, settings
		),
		techniques=rank_techniques(knowledge, state.persona, rates, situations, settings),
		stall=stall,
	)


# --- learning ---


def learn_win_rates(history: Iterable[ClosedDeal]) -> WinRates:
	overall = Tally()
	by_technique: dict[str, Tally] = {}
	by_technique_persona: dict[tuple[str, str], Tally] = {}
	by_playbook: dict[str, Tally] = {}
	by_step: dict[tuple[str, str], Tally] = {}
	for deal in history:
		overall = overall.add(deal.won)
		if deal.technique:
			_add(by_technique, deal.technique, deal.won)
			if deal.persona:
				_add(by_technique_persona, (deal.technique, deal.persona), deal.won)
		if deal.playbook:
			_add(by_playbook, deal.playbook, deal.won)
			for step in deal.completed_steps:
				_add(by_step, (deal.playbook, step), deal.won)
	return WinRates(overall, by_technique, by_technique_persona, by_playbook, by_step)


def smoothed_rate(tally: Tally, prior_mean: float, prior_strength: float) -> float:
	"""Posterior mean of a Beta(prior_mean × strength, (1 − prior_mean) × strength) prior after ``tally``."""
	return (tally.wins + prior_mean * prior_strength) / (tally.deals + prior_strength)


def cautious_score(tally: Tally, prior_mean: float, settings: RecommendSettings) -> float:
	spread = 0.5 / math.sqrt(settings.prior_strength + tally.deals + 1)
	return smoothed_rate(tally, prior_mean, settings.prior_strength) - settings.caution * spread


def baseline_rate(tally: Tally) -> float:
	return (tally.wins + 1) / (tally.deals + 2)


# --- closing techniques ---


def rank_techniques(
	knowledge: Knowledge,
	persona: str | None,
	rates: WinRates,
	situations: Mapping[str, Reason] | None = None,
	settings: RecommendSettings = DEFAULT_SETTINGS,
) -> tuple[RankedTechnique, ...]:
	"""Every known technique, best first, for a buyer of ``persona`` (None or unknown: any buyer)."""
	buyer = knowledge.personas.get(persona) if persona else None
	baseline = baseline_rate(rates.overall)
	ranked = [
		_rank_technique(name, buyer, knowledge, rates, baseline, situations or {}, settings)
		for name in knowledge.techniques
	]
	return tuple(sorted(ranked, key=lambda technique: (-round(technique.score, 9), technique.name)))


def _rank_technique(
	name: str,
	buyer: BuyerPersona | None,
	knowledge: Knowledge,
	rates: WinRates,
	baseline: float,
	situations: Mapping[str, Reason],
	settings: RecommendSettings,
) -> RankedTechnique:
	suitability = _suitability(name, buyer, knowledge)
	prior_mean = _clamp(baseline + settings.suitability_spread * (suitability - NEUTRAL_SUITABILITY))
	tally = _technique_tally(name, buyer, rates)
	adjustments = [
		(settings.context_adjustments.get(situation, {}).get(name, 0.0), reason)
		for situation, reason in situations.items()
	]
	score = cautious_score(tally, prior_mean, settings) + sum(delta for delta, _reason in adjustments)
	favouring = [reason for delta, reason in sorted(adjustments, key=lambda pair: -pair[0]) if delta > 0]
	reasons = (*favouring, _evidence_reason(name, buyer, tally, suitability, settings))
	return RankedTechnique(
		name=name,
		score=score,
		win_rate=smoothed_rate(tally, prior_mean, settings.prior_strength),
		prior_win_rate=prior_mean,
		wins=tally.wins,
		deals=tally.deals,
		reason=reasons[0],
		reasons=reasons,
	)


def _suitability(technique: str, buyer: BuyerPersona | None, knowledge: Knowledge) -> float:
	if buyer is not None:
		return buyer.suitability.get(technique, NEUTRAL_SUITABILITY)
	weights = [p.suitability.get(technique, NEUTRAL_SUITABILITY) for p in knowledge.personas.values()]
	return sum(weights) / len(weights) if weights else NEUTRAL_SUITABILITY


def _technique_tally(technique: str, buyer: BuyerPersona | None, rates: WinRates) -> Tally:
	if buyer is not None:
		return rates.by_technique_persona.get((technique, buyer.name), Tally())
	return rates.by_technique.get(technique, Tally())


def _evidence_reason(
	technique: str, buyer: BuyerPersona | None, tally: Tally, suitability: float, settings: RecommendSettings
) -> Reason:
	if tally.deals >= settings.min_deals_to_cite and buyer is not None:
		return Reason(
			N_("{technique} won {wins} of {deals} deals with {persona} buyers"),
			{"technique": technique, "wins": tally.wins, "deals": tally.deals, "persona": buyer.name},
		)
	if tally.deals >= settings.min_deals_to_cite:
		return Reason(
			N_("{technique} won {wins} of {deals} deals"),
			{"technique": technique, "wins": tally.wins, "deals": tally.deals},
		)
	if buyer is not None:
		return Reason(
			N_("{technique} suits {persona} buyers ({suitability}% fit)"),
			{"technique": technique, "persona": buyer.name, "suitability": round(100 * suitability)},
		)
	return Reason(
		N_(
			"{technique} fits most buyers ({suitability}% average fit); set the buyer persona for a sharper choice"
		),
		{"technique": technique, "suitability": round(100 * suitability)},
	)


# --- the Opportunity's situation ---


def detect_situations(
	state: OpportunityState,
	as_of: datetime,
	stages: Sequence[str],
	stalled: bool,
	settings: RecommendSettings = DEFAULT_SETTINGS,
) -> dict[str, Reason]:
	"""The situations that apply to ``state``, each with the reason shown when it favours a technique."""
	found = {}
	if state.competitors:
		found[COMPETITORS] = Reason(
			N_("Competitors are in play: {competitors}"), {"competitors": ", ".join(state.competitors)}
		)
	if stalled:
		found[STALLED] = Reason(N_("The deal has stalled in {stage}"), {"stage": state.sales_stage})
	found.update(_stage_situation(state.sales_stage, stages, settings))
	found.update(_feed_situation(state.recent_feed, as_of, settings))
	if _is_key_account(state, settings):
		found[KEY_ACCOUNT] = Reason(N_("This is a key account or a large deal"))
	return found


def _stage_situation(stage: str, stages: Sequence[str], settings: RecommendSettings) -> dict[str, Reason]:
	if stage not in stages or settings.late_stage_from not in stages:
		return {}
	if stages.index(stage) < stages.index(settings.late_stage_from):
		return {EARLY_STAGE: Reason(N_("It is early in the sale ({stage})"), {"stage": stage})}
	return {LATE_STAGE: Reason(N_("The deal is close to a decision ({stage})"), {"stage": stage})}


def _feed_situation(
	feed: Iterable[Mapping], as_of: datetime, settings: RecommendSettings
) -> dict[str, Reason]:
	touches = sorted(
		(item for item in feed if item.get("at") is not None and item["at"] <= as_of and _is_contact(item)),
		key=lambda item: item["at"],
	)
	last_inbound = next((item["at"] for item in reversed(touches) if item["direction"] == INBOUND), None)
	if last_inbound is not None and as_of - last_inbound <= timedelta(days=settings.engaged_within_days):
		return {
			ENGAGED: Reason(
				N_("The buyer replied in the last {days} days"), {"days": settings.engaged_within_days}
			)
		}
	unanswered = [
		item
		for item in touches
		if item["direction"] == OUTBOUND and (last_inbound is None or item["at"] > last_inbound)
	]
	if len(unanswered) >= settings.silent_after_messages:
		return {
			SILENT: Reason(
				N_("The buyer has not answered the last {count} messages"), {"count": len(unanswered)}
			)
		}
	return {}


def _is_contact(item: Mapping) -> bool:
	return item.get("direction") in (INBOUND, OUTBOUND)


def _is_key_account(state: OpportunityState, settings: RecommendSettings) -> bool:
	key_tier = state.customer_tier is not None and state.customer_tier in settings.key_account_tiers
	large = settings.large_amount is not None and (state.amount or 0) >= settings.large_amount
	return key_tier or large


# --- next actions ---


def rank_next_actions(
	steps: Sequence[OpportunityStep],
	current_stage: str,
	today: date,
	stages: Sequence[str],
	rates: WinRates | None = None,
	playbook: str | None = None,
	settings: RecommendSettings = DEFAULT_SETTINGS,
) -> tuple[RankedAction, ...]:
	"""Open steps, best first (see module docstring), each with the reason it is where it is."""
	rates = rates or WinRates()
	current = stage_position(current_stage, stages)
	actions = [
		RankedAction(
			step=step,
			overdue_days=_overdue_days(step, today),
			reason=_action_reason(step, today, current, stages),
			win_rate=_step_win_rate(step, rates, playbook, settings),
		)
		for step in steps
		if step.is_open
	]
	# sorted() is stable, so equal keys keep playbook order.
	return tuple(sorted(actions, key=lambda action: _action_rank(action, current, stages)))


def _action_rank(action: RankedAction, current: int, stages: Sequence[str]) -> tuple:
	stage = stage_position(action.step.step.sales_stage, stages)
	return (-action.overdue_days, stage > current, not action.step.step.mandatory, stage)


def _overdue_days(step: OpportunityStep, today: date) -> int:
	return max((today - step.due_on).days, 0) if step.due_on else 0


def _action_reason(step: OpportunityStep, today: date, current: int, stages: Sequence[str]) -> Reason:
	stage = step.step.sales_stage
	overdue = _overdue_days(step, today)
	if overdue:
		return Reason(N_("Overdue by {days} days"), {"days": overdue})
	if stage_position(stage, stages) > current:
		return Reason(N_("Prepares the later stage {stage}"), {"stage": stage})
	if step.step.mandatory:
		return Reason(N_("Mandatory step of {stage}"), {"stage": stage})
	if step.due_on is not None:
		return Reason(N_("Due in {days} days"), {"days": (step.due_on - today).days})
	return Reason(N_("Next step of {stage}"), {"stage": stage})


def _step_win_rate(
	step: OpportunityStep, rates: WinRates, playbook: str | None, settings: RecommendSettings
) -> float | None:
	tally = rates.by_step.get((playbook, step.key)) if playbook else None
	if tally is None or tally.deals < settings.min_deals_to_cite:
		return None
	baseline = baseline_rate(rates.by_playbook.get(playbook, Tally()))
	return smoothed_rate(tally, baseline, settings.prior_strength)


# --- stalls ---


def expected_stage_days(steps: Iterable[PlaybookStep], stage: str, default_days: int) -> int:
	days = sum(step.due_after_days for step in steps if step.sales_stage == stage)
	return days or default_days


def detect_stall(
	stage: str, days_in_stage: int, steps: Iterable[PlaybookStep], default_days: int = 14
) -> Stall | None:
	expected = expected_stage_days(steps, stage, default_days)
	if days_in_stage <= expected:
		return None
	return Stall(
		stage=stage,
		days_in_stage=days_in_stage,
		expected_days=expected,
		reason=Reason(
			N_("In {stage} for {days} days; the playbook expects {expected}"),
			{"stage": stage, "days": days_in_stage, "expected": expected},
		),
	)


# --- helpers ---


def _add(tallies: dict, key, won: bool) -> None:
	tallies[key] = tallies.get(key, Tally()).add(won)


def _clamp(value: float) -> float:
	return min(max(value, MIN_PRIOR_MEAN), MAX_PRIOR_MEAN)
