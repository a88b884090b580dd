from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_extension.activity_log.engine.preferred_channel import PreferenceSettings, compute_preferred_channel

AS_OF = datetime(2024, 6, 1, 12, 0)
# As CRM Channel stores them (and the feed gives them): the engine speaks one vocabulary.
CHANNEL_TYPES = {
	"Email": "Email",
	"Phone": "Voice",
	"WhatsApp": "Messaging",
	"SMS": "Messaging",
	"Meeting": "Meeting",
	"Site Visit": "Visit",
}


def item(channel, direction, days_ago, hours_later=0.0, outcome=None):
	return {
		"channel": channel,
		"channel_type": CHANNEL_TYPES.get(channel, "Other"),
		"direction": direction,
		"outcome": outcome,
		"at": AS_OF - timedelta(days=days_ago) + timedelta(hours=hours_later),
	}


def exchanges(channel, days_ago_list, reply_after_hours=1.0):
	"""An outbound touch on each day, each answered ``reply_after_hours`` later."""
	feed = []
	for days_ago in days_ago_list:
		feed.append(item(channel, "Outbound", days_ago))
		feed.append(item(channel, "Inbound", days_ago, hours_later=reply_after_hours))
	return feed


def unanswered(channel, days_ago_list):
	return [item(channel, "Outbound", days_ago) for days_ago in days_ago_list]


def stats_by_channel(result):
	return {entry["channel"]: entry for entry in result["channels"]}


def test_channel_answered_most_and_fastest_is_preferred():
	feed = (
		exchanges("WhatsApp", [5, 10, 15, 20])
		+ unanswered("Email", [6, 11, 16])
		+ exchanges("Email", [21], 72)
	)

	result = compute_preferred_channel(feed, AS_OF)

	assert result["preferred_channel"] == "WhatsApp"
	whatsapp = stats_by_channel(result)["WhatsApp"]
	assert (whatsapp["responses"], whatsapp["attempts"], whatsapp["median_response_hours"]) == (4, 4, 1.0)
	assert stats_by_channel(result)["Email"]["median_response_hours"] == 72.0


def test_smoothing_ranks_nine_of_ten_above_one_of_one():
	nine_of_ten = [
		entry
		for minute in range(10)
		for entry in (
			[item("SMS", "Outbound", 10, hours_later=minute / 60)]
			+ ([item("SMS", "Inbound", 10, hours_later=1 + minute / 60)] if minute < 9 else [])
		)
	]
	feed = nine_of_ten + exchanges("WhatsApp", [10])

	result = compute_preferred_channel(feed, AS_OF)

	sms, whatsapp = stats_by_channel(result)["SMS"], stats_by_channel(result)["WhatsApp"]
	assert (sms["responses"], sms["attempts"], whatsapp["responses"], whatsapp["attempts"]) == (9, 10, 1, 1)
	assert whatsapp["response_rate"] < sms["response_rate"]
	assert result["preferred_channel"] == "SMS"


def test_recent_behaviour_outweighs_an_old_preference():
	old_email_habit = exchanges("Email", range(400, 420)) + unanswered("Email", [3, 10])
	feed = old_email_habit + exchanges("WhatsApp", [5, 12])
	without_decay = PreferenceSettings(half_life_days=1e9)

	assert compute_preferred_channel(feed, AS_OF, without_decay)["preferred_channel"] == "Email"
	assert compute_preferred_channel(feed, AS_OF)["preferred_channel"] == "WhatsApp"


def test_spontaneous_inbound_counts_as_preference():
	feed = [item("WhatsApp", "Inbound", days) for days in (2, 20, 40)] + unanswered("Email", [1, 30])

	result = compute_preferred_channel(feed, AS_OF)

	assert result["preferred_channel"] == "WhatsApp"
	assert stats_by_channel(result)["WhatsApp"]["inbound"] == 3
	assert stats_by_channel(result)["WhatsApp"]["attempts"] == 0


def test_reply_on_another_channel_counts_as_the_party_choosing_that_channel():
	feed = [*unanswered("Email", [10]), item("Phone", "Inbound", 10, hours_later=2)]

	result = compute_preferred_channel(feed, AS_OF)

	assert stats_by_channel(result)["Email"]["responses"] == 0
	assert stats_by_channel(result)["Phone"]["inbound"] == 1
	assert result["preferred_channel"] == "Phone"


def test_follow_up_messages_in_a_conversation_are_not_spontaneous():
	feed = exchanges("WhatsApp", [10]) + [
		item("WhatsApp", "Inbound", 10, hours_later=hours) for hours in (2, 3)
	]

	whatsapp = stats_by_channel(compute_preferred_channel(feed, AS_OF))["WhatsApp"]

	assert (whatsapp["responses"], whatsapp["attempts"], whatsapp["inbound"]) == (1, 1, 0)


def test_one_reply_answers_only_one_of_several_touches():
	feed = [*unanswered("Email", [10, 9, 8]), item("Email", "Inbound", 7, hours_later=12)]

	email = stats_by_channel(compute_preferred_channel(feed, AS_OF))["Email"]

	assert (email["responses"], email["attempts"]) == (1, 3)


def test_reply_after_the_response_window_is_spontaneous_not_a_response():
	feed = [*unanswered("Email", [20]), item("Email", "Inbound", 12)]

	email = stats_by_channel(compute_preferred_channel(feed, AS_OF))["Email"]

	assert (email["responses"], email["inbound"]) == (0, 1)


def test_declared_outcomes_decide_without_a_reply_item():
	feed = [
		item("Phone", "Outbound", 3, outcome="Completed"),
		item("Email", "Outbound", 3, outcome="Replied"),
		item("SMS", "Outbound", 3, outcome="Bounced"),
		item("SMS", "Inbound", 3, hours_later=1),
	]

	stats = stats_by_channel(compute_preferred_channel(feed, AS_OF))

	assert stats["Phone"]["responses"] == 1
	assert stats["Phone"]["median_response_hours"] == 0.0
	assert stats["Email"]["responses"] == 1
	assert stats["Email"]["median_response_hours"] is None
	assert (stats["SMS"]["responses"], stats["SMS"]["inbound"]) == (0, 0)


def test_four_completed_outbound_calls_make_phone_preferred_over_an_answered_email():
	feed = [
		*exchanges("Email", [9], reply_after_hours=2),
		item("Email", "Outbound", 8),
		*(item("Phone", "Outbound", days_ago, outcome="Completed") for days_ago in (1, 2, 3, 4)),
	]

	result = compute_preferred_channel(feed, AS_OF)

	assert result["preferred_channel"] == "Phone"
	assert stats_by_channel(result)["Phone"]["responses"] == 4


@pytest.mark.parametrize("channel", ["Phone", "Meeting", "Site Visit"])
def test_completed_outcome_on_a_synchronous_channel_type_as_stored_is_a_response(channel):
	result = compute_preferred_channel([item(channel, "Outbound", 3, outcome="Completed")], AS_OF)

	assert result["preferred_channel"] == channel
	assert stats_by_channel(result)[channel]["median_response_hours"] == 0.0


@pytest.mark.parametrize("spelling", ["voice", "VOICE", " Voice "])
def test_channel_type_is_read_in_the_stored_vocabulary_whatever_its_case(spelling):
	feed = [{**item("Phone", "Outbound", 3, outcome="Completed"), "channel_type": spelling}]

	assert compute_preferred_channel(feed, AS_OF)["preferred_channel"] == "Phone"


def test_completed_outcome_on_an_asynchronous_channel_is_not_a_response():
	feed = [item("Email", "Outbound", 3, outcome="Completed")]

	result = compute_preferred_channel(feed, AS_OF)

	assert stats_by_channel(result)["Email"]["responses"] == 0
	assert result["preferred_channel"] is None


def test_internal_items_are_ignored():
	feed = exchanges("SMS", [4])
	internal = [
		{**item("SMS", "Outbound", 2), "direction": "Internal"},
		{**item("Note", "Inbound", 1), "direction": "Internal"},
	]

	assert compute_preferred_channel(feed + internal, AS_OF) == compute_preferred_channel(feed, AS_OF)
	assert "Note" not in stats_by_channel(compute_preferred_channel(internal, AS_OF))


def test_sales_documents_and_future_items_are_ignored():
	feed = [
		{**item("Sales Document", "Outbound", 2), "channel_type": "Other"},
		item("Email", "Inbound", -3),
	]

	assert compute_preferred_channel(feed, AS_OF) == {"preferred_channel": None, "channels": []}


def test_no_evidence_gives_no_preferred_channel():
	assert compute_preferred_channel([], AS_OF) == {"preferred_channel": None, "channels": []}
	only_unanswered = compute_preferred_channel(unanswered("Email", [1, 2]), AS_OF)
	assert only_unanswered["preferred_channel"] is None
	assert [entry["channel"] for entry in only_unanswered["channels"]] == ["Email"]


def test_equal_channels_tie_break_by_name():
	feed = exchanges("SMS", [5]) + exchanges("Email", [5])

	result = compute_preferred_channel(feed, AS_OF)

	assert result["channels"][0]["score"] == result["channels"][1]["score"]
	assert [entry["channel"] for entry in result["channels"]] == ["Email", "SMS"]
	assert result["preferred_channel"] == "Email"


MIXED_FEED = (
	exchanges("SMS", [5, 30])
	+ exchanges("Email", [5], 30)
	+ unanswered("Email", [8])
	+ [item("WhatsApp", "Inbound", 9), item("Phone", "Outbound", 4, outcome="Completed")]
)


@settings(deadline=None)
@given(st.permutations(MIXED_FEED))
def test_result_does_not_depend_on_feed_order(shuffled_feed):
	assert compute_preferred_channel(shuffled_feed, AS_OF) == compute_preferred_channel(MIXED_FEED, AS_OF)


feed_items = st.builds(
	item,
	channel=st.sampled_from(["Email", "Phone", "WhatsApp", "SMS"]),
	direction=st.sampled_from(["Inbound", "Outbound", "Internal"]),
	days_ago=st.floats(min_value=-5, max_value=800),
	outcome=st.sampled_from([None, "Completed", "Replied", "No Response", "Bounced", "Interested"]),
)


@settings(deadline=None)
@given(st.lists(feed_items, max_size=40))
def test_ranking_is_sorted_and_preferred_channel_has_positive_evidence(feed):
	result = compute_preferred_channel(feed, AS_OF)

	scores = [entry["score"] for entry in result["channels"]]
	assert scores == sorted(scores, reverse=True)
	assert all(0 < entry["response_rate"] < 1 for entry in result["channels"])
	with_evidence = [
		entry["channel"] for entry in result["channels"] if entry["responses"] + entry["inbound"]
	]
	assert result["preferred_channel"] == (with_evidence[0] if with_evidence else None)
