from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crm_extension.lead_scoring.engine.features import (
	DAYS_SINCE_LAST_CONTACT,
	NO_CONTACT,
	FeatureSettings,
	OpportunityFact,
	OutcomeFacts,
	feature_row,
	label_lead,
)

CUTOFF = datetime(2024, 3, 1)
LEAD = {
	"source": "Referral",
	"industry": " Retail ",
	"email_id": "a@b.example",
	"phone": "",
	"annual_revenue": 5e5,
}


def item(days_before, channel="Email", direction="Inbound", outcome=None):
	return {
		"channel": channel,
		"direction": direction,
		"outcome": outcome,
		"at": CUTOFF - timedelta(days=days_before),
	}


def test_row_holds_categories_presence_flags_and_numbers():
	row = feature_row(LEAD, [], CUTOFF)

	assert row["source"] == "Referral"
	assert row["industry"] == "Retail"
	assert "territory" not in row
	assert (row["has:email_id"], row["has:phone"]) == (1.0, 0.0)
	assert row["num:annual_revenue"] == 5e5


def test_row_counts_feed_items_per_window_channel_direction_and_outcome():
	feed = [item(2, "WhatsApp"), item(20, "Email", "Outbound", "Replied"), item(60, "Email"), item(200)]

	row = feature_row(LEAD, feed, CUTOFF, FeatureSettings(windows_days=(7, 30, 90)))

	assert row["count:7d:all"] == 1
	assert row["count:30d:all"] == 2
	assert row["count:90d:all"] == 3
	assert row["count:90d:channel:Email"] == 2
	assert row["count:30d:direction:Outbound"] == 1
	assert row["count:30d:outcome:Replied"] == 1
	assert "count:7d:channel:Email" not in row
	assert row[DAYS_SINCE_LAST_CONTACT] == 2
	assert NO_CONTACT not in row


def test_a_lead_never_contacted_gets_the_capped_recency_and_a_flag():
	row = feature_row(LEAD, [item(1, "Note", "Internal")], CUTOFF)

	assert (row[DAYS_SINCE_LAST_CONTACT], row[NO_CONTACT]) == (365.0, 1.0)


def test_activity_at_or_after_the_cutoff_does_not_change_the_row():
	before = [item(3), item(40, "Phone", "Outbound", "Completed")]
	after = [item(0), item(-1, "Sales Document", "Outbound"), item(-30, "WhatsApp")]

	assert feature_row(LEAD, before + after, CUTOFF) == feature_row(LEAD, before, CUTOFF)


@given(
	st.lists(st.floats(0.001, 400), max_size=10),
	st.lists(
		st.tuples(st.floats(-400, 0), st.sampled_from(["Email", "Phone", "Sales Document"])), max_size=10
	),
)
def test_no_item_from_the_outcome_on_ever_leaks_into_the_row(days_before, later):
	known = [item(days) for days in days_before]
	leaked = [item(days, channel) for days, channel in later]

	assert feature_row(LEAD, known + leaked, CUTOFF) == feature_row(LEAD, known, CUTOFF)


def test_status_converted_is_a_positive_label_at_the_status_change():
	label = label_lead(OutcomeFacts("Converted", status_changed_at=CUTOFF))

	assert (label.label, label.decided_at) == (1, CUTOFF)


def test_a_customer_or_won_opportunity_makes_a_positive_at_the_earliest_of_them():
	won = OpportunityFact("Converted", closed_at=CUTOFF)
	facts = OutcomeFacts("Opportunity", customer_created_at=CUTOFF + timedelta(days=3), opportunities=(won,))

	assert label_lead(facts) == label_lead(OutcomeFacts("Quotation", opportunities=(won,)))
	assert (label_lead(facts).label, label_lead(facts).decided_at) == (1, CUTOFF)


def test_lost_statuses_and_unqualified_leads_are_negative():
	for facts in (
		OutcomeFacts("Do Not Contact", status_changed_at=CUTOFF),
		OutcomeFacts("Lost Quotation", status_changed_at=CUTOFF),
		OutcomeFacts("Open", status_changed_at=CUTOFF, qualification_status="Unqualified"),
	):
		assert (label_lead(facts).label, label_lead(facts).decided_at) == (0, CUTOFF)


def test_a_lead_whose_opportunities_are_all_lost_is_negative_at_the_last_loss():
	lost = (OpportunityFact("Lost", CUTOFF - timedelta(days=9)), OpportunityFact("Lost", CUTOFF))
	facts = OutcomeFacts("Opportunity", opportunities=(*lost, OpportunityFact("Closed")))

	assert (label_lead(facts).label, label_lead(facts).decided_at) == (0, CUTOFF)


def test_open_leads_and_leads_with_an_open_opportunity_are_not_labelled():
	still_open = (OpportunityFact("Lost", CUTOFF), OpportunityFact("Open"))

	assert label_lead(OutcomeFacts("Open")).label is None
	assert label_lead(OutcomeFacts("Replied")).label is None
	assert label_lead(OutcomeFacts("Opportunity", opportunities=still_open)).label is None


def test_conversion_wins_over_a_later_lost_status():
	facts = OutcomeFacts(
		"Do Not Contact", status_changed_at=CUTOFF, customer_created_at=CUTOFF - timedelta(days=5)
	)

	assert (label_lead(facts).label, label_lead(facts).decided_at) == (1, CUTOFF - timedelta(days=5))
