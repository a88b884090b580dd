"""An Opportunity's progress through its playbook steps.

Each step of the attached playbook becomes an ``OpportunityStep`` (the playbook step, copied so later edits of
the playbook do not change it, plus status and dates). Steps are ordered by the position of their sales stage in
the ordered stage list, then by their order in the playbook; steps of a stage outside the list come last.

- Progress is the share of steps no longer open (done or skipped), as a whole percentage; 0 without steps.
- The next step is the first open step in that order.
- The stage gate: moving forward from stage X to a later stage Y is blocked while a mandatory step of any stage
  before Y is open. Moving back, staying, or moving to a stage outside the list is never blocked.
- Switching playbooks (or clearing one) drops the old playbook's open steps, so when the old playbook enforces
  the gate the switch is held like a move: it is blocked while a mandatory step of the current stage or an
  earlier one is open (the steps the gate would ask for before the next move); those of later stages are the
  new playbook's to plan. Done and skipped steps are history and are kept by the switch.
- Completing a step that is already done changes nothing and says so (``changed`` is False), so a repeated
  request never logs a second activity. Completing a skipped step is refused (it would log an activity for
  something the record says was not done).
- Skipping marks an open optional step skipped (who and when are recorded as for a done step); a step no longer
  open is left as it is (``changed`` False). A mandatory step cannot be skipped: the stage gate relies on it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from crm_extension.i18n import N_
from crm_extension.sales_playbook.engine.errors import StepError
from crm_extension.sales_playbook.engine.knowledge import SALES_STAGES, PlaybookStep

OPEN = "Open"
DONE = "Done"
SKIPPED = "Skipped"
STATUSES = (OPEN, DONE, SKIPPED)


@dataclass(frozen=True)
class OpportunityStep:
	step: PlaybookStep
	status: str = OPEN
	due_on: date | None = None
	done_on: date | None = None
	done_by: str | None = None

	@property
	def key(self) -> str:
		return self.step.key

	@property
	def is_open(self) -> bool:
		return self.status == OPEN


@dataclass(frozen=True)
class StageGate:
	blocked: bool
	blocking_steps: tuple[OpportunityStep, ...] = ()
	template: str | None = None
	params: dict | None = None


@dataclass(frozen=True)
class Completion:
	steps: tuple[OpportunityStep, ...]
	step: OpportunityStep
	changed: bool


def schedule_steps(steps: Iterable[PlaybookStep], start: date) -> tuple[OpportunityStep, ...]:
	"""Open Opportunity steps with due dates: each step is due ``due_after_days`` after the one before it."""
	scheduled = []
	due_on = start
	for step in steps:
		due_on += timedelta(days=step.due_after_days)
		scheduled.append(OpportunityStep(step, due_on=due_on))
	return tuple(scheduled)


def ordered_steps(
	steps: Iterable[OpportunityStep], stages: Sequence[str] = SALES_STAGES
) -> list[OpportunityStep]:
	# sorted() is stable, so steps of one stage keep their playbook order.
	return sorted(steps, key=lambda step: stage_position(step.step.sales_stage, stages))


def stage_position(stage: str | None, stages: Sequence[str]) -> int:
	"""Index of ``stage`` in the ordered list; stages outside it sort after every listed stage."""
	return stages.index(stage) if stage in stages else len(stages)


def progress_percent(steps: Sequence[OpportunityStep]) -> int:
	if not steps:
		return 0
	finished = sum(not step.is_open for step in steps)
	return round(100 * finished / len(steps))


def next_step(
	steps: Iterable[OpportunityStep], stages: Sequence[str] = SALES_STAGES
) -> OpportunityStep | None:
	return next((step for step in ordered_steps(steps, stages) if step.is_open), None)


def check_stage_gate(
	steps: Iterable[OpportunityStep],
	from_stage: str | None,
	to_stage: str,
	stages: Sequence[str] = SALES_STAGES,
	language: str = "en",
) -> StageGate:
	"""Whether the open mandatory steps of the stages before ``to_stage`` block the move; the message names them."""
	if to_stage not in stages or stage_position(to_stage, stages) <= _from_position(from_stage, stages):
		return StageGate(blocked=False)
	target = stages.index(to_stage)
	blocking = tuple(
		step
		for step in ordered_steps(steps, stages)
		if step.is_open and step.step.mandatory and stage_position(step.step.sales_stage, stages) < target
	)
	if not blocking:
		return StageGate(blocked=False)
	titles = ", ".join(step.step.title.in_language(language) for step in blocking)
	return StageGate(
		blocked=True,
		blocking_steps=blocking,
		template=N_("Complete these mandatory steps before moving to {stage}: {steps}"),
		params={"stage": to_stage, "steps": titles},
	)


def check_playbook_switch(
	steps: Iterable[OpportunityStep],
	stage: str | None,
	stages: Sequence[str] = SALES_STAGES,
	language: str = "en",
) -> StageGate:
	"""Whether open mandatory steps of ``stage`` or an earlier one hold the Opportunity on its playbook."""
	current = _from_position(stage, stages)
	holding = tuple(
		step
		for step in ordered_steps(steps, stages)
		if step.is_open and step.step.mandatory and stage_position(step.step.sales_stage, stages) <= current
	)
	if not holding:
		return StageGate(blocked=False)
	return StageGate(
		blocked=True,
		blocking_steps=holding,
		template=N_("Complete these mandatory steps before changing the playbook: {steps}"),
		params={"steps": ", ".join(step.step.title.in_language(language) for step in holding)},
	)


def complete_step(
	steps: Sequence[OpportunityStep], key: str, done_on: date, done_by: str | None = None
) -> Completion:
	"""Mark step ``key`` done; a step already done is returned unchanged with ``changed`` False."""
	index = next((i for i, step in enumerate(steps) if step.key == key), None)
	if index is None:
		raise StepError(N_("This Opportunity has no playbook step {step}"), {"step": key})
	current = steps[index]
	if current.status == DONE:
		return Completion(tuple(steps), current, changed=False)
	if current.status == SKIPPED:
		raise StepError(
			N_("{step} was skipped: it cannot be completed as well"), {"step": current.step.title.en}
		)
	completed = replace(current, status=DONE, done_on=done_on, done_by=done_by)
	return Completion((*steps[:index], completed, *steps[index + 1 :]), completed, changed=True)


def skip_step(
	steps: Sequence[OpportunityStep], key: str, skipped_on: date, skipped_by: str | None = None
) -> Completion:
	"""Mark the open optional step ``key`` skipped; a step done or skipped already is returned unchanged."""
	index = next((i for i, step in enumerate(steps) if step.key == key), None)
	if index is None:
		raise StepError(N_("This Opportunity has no playbook step {step}"), {"step": key})
	current = steps[index]
	if not current.is_open:
		return Completion(tuple(steps), current, changed=False)
	if current.step.mandatory:
		raise StepError(
			N_("{step} is a mandatory step: complete it, it cannot be skipped"),
			{"step": current.step.title.en},
		)
	skipped = replace(current, status=SKIPPED, done_on=skipped_on, done_by=skipped_by)
	return Completion((*steps[:index], skipped, *steps[index + 1 :]), skipped, changed=True)


def _from_position(stage: str | None, stages: Sequence[str]) -> int:
	# An Opportunity without a stage (or with one outside the list) is before every stage.
	return stages.index(stage) if stage in stages else -1
