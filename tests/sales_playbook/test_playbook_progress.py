from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.sales_playbook.engine.errors import StepError
from crm_extension.sales_playbook.engine.knowledge import PlaybookStep, Text, load_knowledge
from crm_extension.sales_playbook.engine.progress import (
	DONE,
	OPEN,
	SKIPPED,
	OpportunityStep,
	check_playbook_switch,
	check_stage_gate,
	complete_step,
	next_step,
	progress_percent,
	schedule_steps,
)

START = date(2024, 3, 1)


def step(key, stage, mandatory=True, days=2):
	return PlaybookStep(
		key=key,
		sales_stage=stage,
		title=Text(en=f"Step {key}", fa=f"گام {key}"),
		action_type="call",
		channel="Phone",
		due_after_days=days,
		mandatory=mandatory,
	)


PLAYBOOK = (
	step("intro", "Prospecting"),
	step("budget", "Qualification"),
	step("follow-up", "Qualification", mandatory=False),
	step("needs", "Needs Analysis"),
	step("quote", "Proposal/Price Quote"),
)


def with_status(steps, **statuses):
	return tuple(OpportunityStep(s.step, status=statuses.get(s.key.replace("-", "_"), OPEN)) for s in steps)


def test_due_dates_accumulate_from_the_start():
	scheduled = schedule_steps(PLAYBOOK, START)

	assert [s.due_on.day for s in scheduled] == [3, 5, 7, 9, 11]
	assert all(s.status == OPEN for s in scheduled)


def test_progress_counts_done_and_skipped_steps():
	steps = with_status(schedule_steps(PLAYBOOK, START), intro=DONE, follow_up=SKIPPED)

	assert progress_percent(steps) == 40
	assert progress_percent(()) == 0


def test_next_step_is_the_first_open_step_in_stage_order():
	out_of_order = (PLAYBOOK[3], PLAYBOOK[0], PLAYBOOK[1])
	steps = with_status(schedule_steps(out_of_order, START), intro=DONE)

	assert next_step(steps).key == "budget"
	assert next_step(with_status(steps, intro=DONE, needs=DONE, budget=DONE)) is None


def test_stage_gate_blocks_a_jump_past_open_mandatory_steps_and_names_them():
	steps = with_status(schedule_steps(PLAYBOOK, START), intro=DONE)

	gate = check_stage_gate(steps, "Qualification", "Proposal/Price Quote")

	assert gate.blocked
	assert [s.key for s in gate.blocking_steps] == ["budget", "needs"]
	assert gate.params == {"stage": "Proposal/Price Quote", "steps": "Step budget, Step needs"}
	assert check_stage_gate(steps, "Qualification", "Proposal/Price Quote", language="fa").params[
		"steps"
	] == ("گام budget, گام needs")


def test_stage_gate_ignores_optional_steps_and_the_target_stage_itself():
	steps = with_status(schedule_steps(PLAYBOOK, START), intro=DONE, budget=DONE)

	assert not check_stage_gate(steps, "Qualification", "Needs Analysis").blocked
	assert check_stage_gate(steps, "Needs Analysis", "Perception Analysis").blocked


def test_stage_gate_never_blocks_moving_back_staying_or_unknown_stages():
	steps = schedule_steps(PLAYBOOK, START)

	assert not check_stage_gate(steps, "Proposal/Price Quote", "Qualification").blocked
	assert not check_stage_gate(steps, "Needs Analysis", "Needs Analysis").blocked
	assert not check_stage_gate(steps, "Prospecting", "Won Somehow").blocked


def test_switching_playbooks_is_held_by_open_mandatory_steps_up_to_the_current_stage():
	steps = with_status(schedule_steps(PLAYBOOK, START), intro=DONE)

	gate = check_playbook_switch(steps, "Qualification")

	assert gate.blocked
	assert [s.key for s in gate.blocking_steps] == ["budget"]
	assert gate.params == {"steps": "Step budget"}
	assert "{steps}" in gate.template


def test_switching_playbooks_is_free_once_the_current_stage_is_done_or_before_any_stage():
	steps = with_status(schedule_steps(PLAYBOOK, START), intro=DONE, budget=DONE)

	assert not check_playbook_switch(steps, "Qualification").blocked
	assert not check_playbook_switch(schedule_steps(PLAYBOOK, START), None).blocked
	assert not check_playbook_switch(schedule_steps(PLAYBOOK, START), "Won Somehow").blocked


def test_completing_a_step_records_who_and_when():
	steps = schedule_steps(PLAYBOOK, START)

	result = complete_step(steps, "budget", date(2024, 3, 4), "sales@example.com")

	assert result.changed
	assert (result.step.status, result.step.done_on, result.step.done_by) == (
		DONE,
		date(2024, 3, 4),
		"sales@example.com",
	)
	assert [s.status for s in result.steps] == [OPEN, DONE, OPEN, OPEN, OPEN]
	assert [s.status for s in steps] == [OPEN] * 5


def test_completing_a_done_step_again_is_a_no_op():
	first = complete_step(schedule_steps(PLAYBOOK, START), "budget", date(2024, 3, 4), "a@example.com")

	again = complete_step(first.steps, "budget", date(2024, 3, 9), "b@example.com")

	assert not again.changed
	assert again.steps == first.steps
	assert again.step.done_by == "a@example.com"


def test_completing_an_unknown_step_is_an_error():
	with pytest.raises(StepError) as raised:
		complete_step(schedule_steps(PLAYBOOK, START), "dance", START)

	assert raised.value.params == {"step": "dance"}


def test_default_playbook_gate_names_the_credit_check_before_negotiation():
	playbook = load_knowledge().default_playbook
	steps = schedule_steps(playbook.steps, START)
	for done in [s.key for s in steps if s.step.sales_stage != "Proposal/Price Quote"] + ["send-quotation"]:
		steps = complete_step(steps, done, START).steps

	gate = check_stage_gate(steps, "Proposal/Price Quote", "Negotiation/Review")

	assert [s.key for s in gate.blocking_steps] == ["credit-check", "quotation-follow-up"]


keys = [s.key for s in PLAYBOOK]


@given(st.lists(st.sampled_from(keys), max_size=12))
def test_completion_is_idempotent_and_progress_never_goes_down(completions):
	steps = schedule_steps(PLAYBOOK, START)
	changed = []
	for key in completions:
		before = progress_percent(steps)
		result = complete_step(steps, key, START)
		steps = result.steps
		changed.append(result.changed)
		assert progress_percent(steps) >= before

	assert sum(changed) == len(set(completions))
	assert progress_percent(steps) == round(100 * len(set(completions)) / len(PLAYBOOK))
