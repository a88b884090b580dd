import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.activity_log.engine import feed
from crm_extension.sequences.engine.steps import (
	CHANNEL_TYPES,
	STEP_TYPES,
	is_email_step,
	is_task_step,
	resolve_step_type,
	step_channel_type,
)


def test_step_types_are_the_six_of_the_design_in_order():
	assert STEP_TYPES == (
		"Automatic Email",
		"Manual Email",
		"Call Task",
		"Messaging Task",
		"Visit Task",
		"Wait",
	)


def test_channel_types_are_the_activity_logs_vocabulary_not_a_second_one():
	assert CHANNEL_TYPES is feed.CHANNEL_TYPES


@pytest.mark.parametrize("step_type", STEP_TYPES)
def test_a_step_not_on_the_preferred_channel_keeps_its_type(step_type):
	assert resolve_step_type(step_type, False, "Voice") == step_type


@pytest.mark.parametrize(
	("preferred", "expected"),
	[
		("Voice", "Call Task"),
		("voice", "Call Task"),
		(" VOICE ", "Call Task"),
		("Messaging", "Messaging Task"),
		("messaging", "Messaging Task"),
		("Visit", "Visit Task"),
		("meeting", "Visit Task"),
	],
)
def test_preferred_channel_type_in_any_spelling_chooses_the_task(preferred, expected):
	assert resolve_step_type("Automatic Email", True, preferred) == expected


def test_preferred_email_on_a_step_with_a_template_sends_it_automatically():
	assert resolve_step_type("Automatic Email", True, "email") == "Automatic Email"
	assert resolve_step_type("Call Task", True, "Email", has_template=True) == "Automatic Email"


def test_preferred_email_on_a_step_without_a_template_becomes_a_manual_email():
	assert resolve_step_type("Call Task", True, "Email") == "Manual Email"
	assert resolve_step_type("Automatic Email", True, "Email", has_template=False) == "Manual Email"


@pytest.mark.parametrize("preferred", [None, "", "Web", "Social", "Letter", "Other", "carrier pigeon"])
def test_an_unknown_or_absent_preference_keeps_the_steps_own_type(preferred):
	assert resolve_step_type("Call Task", True, preferred) == "Call Task"


def test_a_wait_stays_a_wait_whatever_the_preference():
	assert resolve_step_type("Wait", True, "Voice") == "Wait"


def test_an_unknown_step_type_is_refused():
	with pytest.raises(ValueError, match="Unknown step type"):
		resolve_step_type("Fax", False, None)


def test_each_step_reaches_the_party_on_a_channel_type_of_the_shared_vocabulary():
	assert [step_channel_type(step) for step in STEP_TYPES] == [
		"Email",
		"Email",
		"Voice",
		"Messaging",
		"Visit",
		None,
	]
	assert {step_channel_type(step) for step in STEP_TYPES} - {None} <= set(CHANNEL_TYPES)


def test_only_the_automatic_email_is_sent_and_only_the_human_steps_are_tasks():
	assert [is_email_step(step) for step in STEP_TYPES] == [True, False, False, False, False, False]
	assert [is_task_step(step) for step in STEP_TYPES] == [False, True, True, True, True, False]


@given(
	step_type=st.sampled_from(STEP_TYPES),
	on_preferred=st.booleans(),
	preferred=st.one_of(st.none(), st.sampled_from(CHANNEL_TYPES), st.text(max_size=12)),
	has_template=st.sampled_from([None, True, False]),
)
def test_the_resolved_step_is_always_one_of_the_six_and_a_wait_never_changes(
	step_type, on_preferred, preferred, has_template
):
	resolved = resolve_step_type(step_type, on_preferred, preferred, has_template=has_template)
	assert resolved in STEP_TYPES
	assert (resolved == "Wait") == (step_type == "Wait")
	assert on_preferred or resolved == step_type
