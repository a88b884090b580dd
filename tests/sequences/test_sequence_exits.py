import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.sequences.engine.exits import (
	EXIT_REASONS,
	activity_exit_reason,
	communication_exit_reason,
	contact_exit_reason,
	event_exit_reason,
	lead_exit_reason,
	opportunity_exit_reason,
)
from tests.core.translatable import translations

STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review"]


def test_exit_reasons_are_the_eleven_of_the_design():
	assert EXIT_REASONS == (
		"Replied",
		"Meeting",
		"Bounced",
		"Unsubscribed",
		"Converted",
		"Do Not Contact",
		"Won",
		"Lost",
		"Stage Passed",
		"Unenrolled",
		"Finished",
	)


def test_every_exit_reason_has_a_persian_translation_for_the_ui():
	persian = translations("fa")
	assert [reason for reason in EXIT_REASONS if reason not in persian] == []


# Lead


@pytest.mark.parametrize(
	("status", "do_not_contact", "unsubscribed", "expected"),
	[
		("Converted", False, False, "Converted"),
		("Do Not Contact", False, False, "Do Not Contact"),
		("Open", True, False, "Do Not Contact"),
		("Open", False, True, "Unsubscribed"),
		("Converted", True, True, "Unsubscribed"),
		("Converted", True, False, "Do Not Contact"),
	],
)
def test_a_lead_leaves_when_converted_or_asking_not_to_be_contacted_the_partys_wish_first(
	status, do_not_contact, unsubscribed, expected
):
	assert lead_exit_reason(status, do_not_contact, unsubscribed=unsubscribed) == expected


@pytest.mark.parametrize(
	"status",
	["Lead", "Open", "Replied", "Opportunity", "Quotation", "Lost Quotation", "Interested", None, ""],
)
def test_a_lead_in_any_other_status_stays_in_its_sequence(status):
	assert lead_exit_reason(status, False) is None


def test_a_contact_leaves_only_when_unsubscribed():
	assert contact_exit_reason(True) == "Unsubscribed"
	assert contact_exit_reason(False) is None


# Opportunity


@pytest.mark.parametrize(
	("status", "expected"), [("Converted", "Won"), ("Closed", "Won"), ("Quotation", "Won")]
)
def test_a_won_opportunity_leaves_as_won(status, expected):
	assert opportunity_exit_reason(status, "Prospecting", "Negotiation/Review", STAGES) == expected


def test_a_lost_opportunity_leaves_as_lost():
	assert opportunity_exit_reason("Lost", "Prospecting", None, STAGES) == "Lost"


@pytest.mark.parametrize(
	("stage", "expected"),
	[
		("Prospecting", None),
		("Needs Analysis", None),
		("Proposal/Price Quote", "Stage Passed"),
		("Negotiation/Review", "Stage Passed"),
	],
)
def test_an_opportunity_leaves_when_it_reaches_the_exit_stage_or_a_later_one(stage, expected):
	assert opportunity_exit_reason("Open", stage, "Proposal/Price Quote", STAGES) == expected


@pytest.mark.parametrize(
	("stage", "exit_stage"),
	[
		("Unknown Stage", "Qualification"),
		("Negotiation/Review", "Unknown Stage"),
		("Negotiation/Review", None),
		(None, "Qualification"),
	],
)
def test_a_stage_that_cannot_be_placed_or_no_exit_stage_never_counts_as_passed(stage, exit_stage):
	assert opportunity_exit_reason("Open", stage, exit_stage, STAGES) is None


# Activity


@pytest.mark.parametrize("channel_type", ["Email", "Messaging", "Voice", "Web", None])
def test_anything_inbound_on_any_channel_is_a_reply(channel_type):
	assert activity_exit_reason("Inbound", None, channel_type) == "Replied"


@pytest.mark.parametrize("outcome", ["Replied", "Interested", "Not Interested"])
def test_an_outbound_touch_the_party_answered_is_a_reply(outcome):
	assert activity_exit_reason("Outbound", outcome, "Messaging") == "Replied"


@pytest.mark.parametrize("channel_type", ["Voice", "voice", "VOICE"])
def test_a_completed_outbound_call_means_the_party_answered(channel_type):
	assert activity_exit_reason("Outbound", "Completed", channel_type) == "Replied"


def test_a_completed_visit_or_meeting_is_a_meeting():
	assert activity_exit_reason("Outbound", "Completed", "Visit") == "Meeting"
	assert activity_exit_reason("Outbound", "Completed", "meeting") == "Meeting"


def test_a_completed_email_or_message_is_not_an_answer():
	assert activity_exit_reason("Outbound", "Completed", "Email") is None
	assert activity_exit_reason("Outbound", "Completed", "Messaging") is None


def test_a_meeting_held_is_a_meeting_and_a_bounce_is_a_bounce_whatever_the_direction():
	assert activity_exit_reason("Outbound", "Meeting Held", "Meeting") == "Meeting"
	assert activity_exit_reason("Inbound", "Meeting Held", None) == "Meeting"
	assert activity_exit_reason("Outbound", "Bounced", "Email") == "Bounced"


@pytest.mark.parametrize(
	("direction", "outcome"),
	[
		("Outbound", None),
		("Outbound", "No Response"),
		("Internal", None),
		("Internal", "Replied"),
		("", None),
	],
)
def test_unanswered_touches_and_internal_notes_change_nothing(direction, outcome):
	assert activity_exit_reason(direction, outcome, "Voice") is None


def test_direction_is_read_in_any_case():
	assert activity_exit_reason("inbound", None, None) == "Replied"


# Communication and Event


def test_a_received_email_a_person_wrote_is_a_reply():
	assert communication_exit_reason("Received", {}, "Re: our proposal") == "Replied"


def test_an_auto_reply_does_not_end_the_sequence():
	assert communication_exit_reason("Received", {"Auto-Submitted": "auto-replied"}, "Re: x") is None
	assert communication_exit_reason("Received", {}, "Automatic reply: our proposal") is None


@pytest.mark.parametrize(
	("status", "expected"),
	[
		("Bounced", "Bounced"),
		("Rejected", "Bounced"),
		("Recipient Unsubscribed", "Unsubscribed"),
		("Marked As Spam", "Unsubscribed"),
		("Soft-Bounced", None),
		("Opened", None),
		("Clicked", None),
		("Sent", None),
	],
)
def test_a_sent_email_ends_the_sequence_only_when_the_host_marked_it_bounced_or_unsubscribed(
	status, expected
):
	assert communication_exit_reason("Sent", None, None, delivery_status=status) == expected


def test_an_event_held_or_booked_is_a_meeting_a_cancelled_one_is_not():
	assert event_exit_reason("Open") == "Meeting"
	assert event_exit_reason("Completed") == "Meeting"
	assert event_exit_reason("Cancelled") is None


# Properties

OUTCOMES = [
	None,
	"Replied",
	"Interested",
	"Not Interested",
	"Meeting Held",
	"Completed",
	"No Response",
	"Bounced",
]


@given(
	direction=st.sampled_from(["Inbound", "Outbound", "Internal", "inbound", "", "Sideways"]),
	outcome=st.sampled_from([*OUTCOMES, "Something Else"]),
	channel_type=st.sampled_from(
		[None, "Email", "Voice", "voice", "Messaging", "Meeting", "Visit", "Web", "Other"]
	),
)
def test_an_activity_gives_no_reason_or_one_of_the_stored_reasons(direction, outcome, channel_type):
	assert activity_exit_reason(direction, outcome, channel_type) in (None, *EXIT_REASONS)


@given(
	stage_index=st.integers(min_value=0, max_value=len(STAGES) - 1),
	exit_index=st.integers(min_value=0, max_value=len(STAGES) - 1),
)
def test_an_open_opportunity_leaves_exactly_when_its_stage_is_at_or_after_the_exit_stage(
	stage_index, exit_index
):
	reason = opportunity_exit_reason("Open", STAGES[stage_index], STAGES[exit_index], STAGES)
	assert (reason == "Stage Passed") == (stage_index >= exit_index)
	assert reason in (None, "Stage Passed")
