from datetime import datetime

import pytest

from crm_extension.activity_log.engine.feed import (
	ChannelInfo,
	channel_for_call_log,
	channel_for_communication,
	channel_for_event,
	channel_for_record,
	normalise_host_item,
	outcome_for_call_status,
	outcome_for_event_status,
)

START = datetime(2024, 5, 1, 9, 0)


@pytest.mark.parametrize(
	"medium, sent_or_received, expected",
	[
		("Email", "Sent", ("Email", "Email", "Outbound")),
		("Email", "Received", ("Email", "Email", "Inbound")),
		("Phone", "Received", ("Phone", "Voice", "Inbound")),
		("SMS", "Sent", ("SMS", "Messaging", "Outbound")),
		("Chat", "Received", ("Website", "Web", "Inbound")),
		("Visit", "Sent", ("Site Visit", "Visit", "Outbound")),
		("Meeting", "Sent", ("Meeting", "Meeting", "Outbound")),
		("Other", "Sent", ("Other", "Other", "Outbound")),
		("", "Sent", ("Other", "Other", "Outbound")),
		("Email", None, ("Email", "Email", "Internal")),
	],
)
def test_communication_maps_medium_and_sent_or_received(medium, sent_or_received, expected):
	assert channel_for_communication(medium, sent_or_received) == ChannelInfo(*expected)


@pytest.mark.parametrize(
	"call_type, direction",
	[("Incoming", "Inbound"), ("Outgoing", "Outbound"), ("Missed", "Inbound"), (None, "Internal")],
)
def test_call_log_is_a_voice_channel_directed_by_its_type(call_type, direction):
	assert channel_for_call_log(call_type) == ("Phone", "Voice", direction)


@pytest.mark.parametrize(
	"status, outcome",
	[("Completed", "Completed"), ("No Answer", "No Response"), ("Busy", "No Response"), ("Ringing", None)],
)
def test_call_status_maps_to_an_activity_outcome(status, outcome):
	assert outcome_for_call_status(status) == outcome


def test_event_is_a_meeting_unless_its_category_names_another_channel():
	assert channel_for_event() == ("Meeting", "Meeting", "Outbound")
	assert channel_for_event("Meeting") == ("Meeting", "Meeting", "Outbound")
	assert channel_for_event("Call") == ("Phone", "Voice", "Outbound")
	assert outcome_for_event_status("Completed") == "Completed"
	assert outcome_for_event_status("Cancelled") is None


@pytest.mark.parametrize(
	"doctype, expected",
	[
		("ToDo", ("Task", "Other", "Internal")),
		("Comment", ("Note", "Other", "Internal")),
		("CRM Note", ("Note", "Other", "Internal")),
		("Quotation", ("Sales Document", "Other", "Outbound")),
		("Sales Order", ("Sales Document", "Other", "Outbound")),
		("Sales Invoice", ("Sales Document", "Other", "Outbound")),
		("Communication", None),
	],
)
def test_fixed_record_channels(doctype, expected):
	assert channel_for_record(doctype) == expected


@pytest.mark.parametrize(
	"raw, expected",
	[
		(
			{"source_doctype": "Communication", "channel": "Chat", "direction": "Received", "outcome": None},
			("Website", "Web", "Inbound", None),
		),
		(
			{"source_doctype": "Call Log", "channel": None, "direction": "Outgoing", "outcome": "No Answer"},
			("Phone", "Voice", "Outbound", "No Response"),
		),
		(
			{"source_doctype": "Event", "channel": "Meeting", "direction": None, "outcome": "Completed"},
			("Meeting", "Meeting", "Outbound", "Completed"),
		),
		(
			{"source_doctype": "Sales Invoice", "channel": None, "direction": None, "outcome": None},
			("Sales Document", "Other", "Outbound", None),
		),
		(
			{
				"source_doctype": "CRM Activity",
				"channel": "WhatsApp",
				"direction": "Inbound",
				"outcome": "Replied",
			},
			("WhatsApp", None, "Inbound", "Replied"),
		),
	],
)
def test_host_rows_are_given_the_feed_vocabulary(raw, expected):
	item = normalise_host_item({"channel_type": None, **raw})

	assert (item["channel"], item["channel_type"], item["direction"], item["outcome"]) == expected
