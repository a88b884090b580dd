from datetime import date

import pytest

from crm_extension.sales_playbook.engine.errors import StepError
from crm_extension.sales_playbook.engine.knowledge import PlaybookStep, Text
from crm_extension.sales_playbook.engine.progress import (
	DONE,
	OPEN,
	SKIPPED,
	complete_step,
	next_step,
	progress_percent,
	schedule_steps,
	skip_step,
)

START = date(2024, 3, 1)


def step(key, stage, mandatory=True):
	return PlaybookStep(
		key=key,
		sales_stage=stage,
		title=Text(en=f"Step {key}", fa=f"گام {key}"),
		action_type="call",
		channel="Phone",
		due_after_days=2,
		mandatory=mandatory,
	)


PLAYBOOK = (
	step("intro", "Prospecting"),
	step("follow-up", "Prospecting", mandatory=False),
	step("budget", "Qualification"),
)


def test_skipping_an_optional_step_records_who_and_when_and_counts_as_progress():
	steps = schedule_steps(PLAYBOOK, START)

	result = skip_step(steps, "follow-up", date(2024, 3, 4), "sales@example.com")

	assert result.changed
	assert (result.step.status, result.step.done_on, result.step.done_by) == (
		SKIPPED,
		date(2024, 3, 4),
		"sales@example.com",
	)
	assert [s.status for s in result.steps] == [OPEN, SKIPPED, OPEN]
	assert progress_percent(result.steps) == 33
	assert next_step(complete_step(result.steps, "intro", START).steps).key == "budget"


def test_skipping_a_step_that_is_not_open_is_a_no_op():
	skipped = skip_step(schedule_steps(PLAYBOOK, START), "follow-up", START, "a@example.com")
	again = skip_step(skipped.steps, "follow-up", date(2024, 3, 9), "b@example.com")
	done = complete_step(schedule_steps(PLAYBOOK, START), "follow-up", START, "a@example.com")
	skipping_done = skip_step(done.steps, "follow-up", START, "b@example.com")

	assert not again.changed
	assert again.steps == skipped.steps
	assert not skipping_done.changed
	assert skipping_done.step.status == DONE


def test_a_mandatory_step_cannot_be_skipped():
	with pytest.raises(StepError) as raised:
		skip_step(schedule_steps(PLAYBOOK, START), "intro", START)

	assert raised.value.params == {"step": "Step intro"}


def test_skipping_an_unknown_step_is_an_error():
	with pytest.raises(StepError) as raised:
		skip_step(schedule_steps(PLAYBOOK, START), "dance", START)

	assert raised.value.params == {"step": "dance"}


def test_completing_a_skipped_step_is_refused_and_names_it():
	skipped = skip_step(schedule_steps(PLAYBOOK, START), "follow-up", START, "a@example.com")

	with pytest.raises(StepError) as raised:
		complete_step(skipped.steps, "follow-up", date(2024, 3, 9), "b@example.com")

	assert raised.value.params == {"step": "Step follow-up"}
	assert "skipped" in raised.value.template
