"""Why an enrollment ends. The reason is stored as English text (one of ``EXIT_REASONS``) and translated in
the UI. Each function reads one kind of event in the host's own vocabulary and returns a reason, or None when
the event does not end the sequence.

The activity vocabulary is the activity log's: its response outcomes and synchronous channel types (a
"Completed" call means the party was on the line) are imported, not repeated.
"""

from collections.abc import Mapping, Sequence

from crm_extension.activity_log.engine.feed import INBOUND, OUTBOUND, VOICE, canonical_channel_type
from crm_extension.activity_log.engine.preferred_channel import RESPONSE_OUTCOMES, SYNCHRONOUS_CHANNEL_TYPES
from crm_extension.i18n import N_
from crm_extension.sequences.engine.replies import is_auto_reply

REPLIED = N_("Replied")
MEETING = N_("Meeting")
BOUNCED = N_("Bounced")
UNSUBSCRIBED = N_("Unsubscribed")
CONVERTED = N_("Converted")
DO_NOT_CONTACT = N_("Do Not Contact")
WON = N_("Won")
LOST = N_("Lost")
STAGE_PASSED = N_("Stage Passed")
UNENROLLED = N_("Unenrolled")
FINISHED = N_("Finished")
EXIT_REASONS = (
	REPLIED,
	MEETING,
	BOUNCED,
	UNSUBSCRIBED,
	CONVERTED,
	DO_NOT_CONTACT,
	WON,
	LOST,
	STAGE_PASSED,
	UNENROLLED,
	FINISHED,
)

# ERPNext Opportunity.status values that mean the deal went our way.
WON_OPPORTUNITY_STATUSES = frozenset({"Converted", "Closed", "Quotation"})
MEETING_OUTCOMES = frozenset({"Meeting Held"})
BOUNCE_OUTCOMES = frozenset({"Bounced"})
# Frappe Communication.delivery_status values that end a sequence (a soft bounce may still deliver).
DELIVERY_STATUS_REASONS = {
	"Bounced": BOUNCED,
	"Rejected": BOUNCED,
	"Recipient Unsubscribed": UNSUBSCRIBED,
	"Marked As Spam": UNSUBSCRIBED,
}

__all__ = [
	"EXIT_REASONS",
	"activity_exit_reason",
	"communication_exit_reason",
	"contact_exit_reason",
	"event_exit_reason",
	"lead_exit_reason",
	"opportunity_exit_reason",
]


def lead_exit_reason(status: str | None, do_not_contact: bool, unsubscribed: bool = False) -> str | None:
	"""A Lead leaves its sequences when it unsubscribed, asked not to be contacted or was converted. The
	party's own wish comes first. "Opportunity", "Quotation" (and every other status) keep the Lead in: the
	sequence may be the one moving that deal."""
	if unsubscribed:
		return UNSUBSCRIBED
	if do_not_contact or status == "Do Not Contact":
		return DO_NOT_CONTACT
	if status == "Converted":
		return CONVERTED
	return None


def contact_exit_reason(unsubscribed: bool) -> str | None:
	"""A Contact that unsubscribed (Contact.unsubscribed) leaves every sequence."""
	return UNSUBSCRIBED if unsubscribed else None


def opportunity_exit_reason(
	status: str | None, sales_stage: str | None, exit_stage: str | None, stage_order: Sequence[str]
) -> str | None:
	"""Won or lost ends the sequence; so does reaching the sequence's exit stage or any stage after it in
	``stage_order``. A stage missing from ``stage_order`` cannot be placed and never counts as passed."""
	if status in WON_OPPORTUNITY_STATUSES:
		return WON
	if status == "Lost":
		return LOST
	if _stage_reached(sales_stage, exit_stage, list(stage_order)):
		return STAGE_PASSED
	return None


def activity_exit_reason(direction: str, outcome: str | None, channel_type: str | None) -> str | None:
	"""A CRM Activity on any channel: a bounce, a meeting held, anything inbound, or an outbound touch the
	party answered (outcome Replied / Interested / Not Interested, or a Completed call). Internal notes and
	unanswered touches (the sequence's own steps among them) change nothing."""
	direction = (direction or "").strip().capitalize()
	channel_type = canonical_channel_type(channel_type)
	if outcome in BOUNCE_OUTCOMES:
		return BOUNCED
	if outcome in MEETING_OUTCOMES:
		return MEETING
	if direction == INBOUND:
		return REPLIED
	if direction != OUTBOUND:
		return None
	if outcome in RESPONSE_OUTCOMES:
		return REPLIED
	if outcome == "Completed" and channel_type in SYNCHRONOUS_CHANNEL_TYPES:
		return REPLIED if channel_type == VOICE else MEETING
	return None


def communication_exit_reason(
	sent_or_received: str | None,
	headers: Mapping[str, str] | None = None,
	subject: str | None = None,
	delivery_status: str | None = None,
) -> str | None:
	"""An email in the thread or from the party's addresses: a received one that a person wrote is a reply
	(auto-replies are not); a sent one ends the sequence only when the host marked it bounced, rejected,
	unsubscribed or spam."""
	if delivery_status in DELIVERY_STATUS_REASONS:
		return DELIVERY_STATUS_REASONS[delivery_status]
	if sent_or_received == "Received" and not is_auto_reply(headers, subject):
		return REPLIED
	return None


def event_exit_reason(status: str | None) -> str | None:
	"""An Event with the party, held or booked, is a meeting; a cancelled one is not."""
	return None if status == "Cancelled" else MEETING


def _stage_reached(sales_stage: str | None, exit_stage: str | None, order: list[str]) -> bool:
	if not sales_stage or not exit_stage or sales_stage not in order or exit_stage not in order:
		return False
	return order.index(sales_stage) >= order.index(exit_stage)
