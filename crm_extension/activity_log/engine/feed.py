"""Pure part of the unified activity feed.

The adapter reads each source (CRM Activity, Communication, Call Log, Event, ToDo, notes, sales documents),
reads every record with its own vocabulary, and ``normalise_host_item`` turns it into a feed item
``{channel, channel_type, direction, outcome, at, source_doctype, source_name, ...}``. Channel names match
the shipped CRM Channels (Website chat, Site Visit) so host records count toward the same channels, and
channel types are spelt as CRM Channel stores them ("Voice", "Meeting", ...): one vocabulary for the app's
own activities and the host's records. ``canonical_channel_type`` reads any other spelling into it.
"""

from typing import NamedTuple

from crm_extension.i18n import N_

INBOUND = "Inbound"
OUTBOUND = "Outbound"
INTERNAL = "Internal"
DIRECTIONS = (INBOUND, OUTBOUND, INTERNAL)

SALES_DOCUMENT_CHANNEL = N_("Sales Document")


# CRM Channel.channel_type options, as stored.
EMAIL = "Email"
VOICE = "Voice"
MESSAGING = "Messaging"
MEETING = "Meeting"
VISIT = "Visit"
WEB = "Web"
SOCIAL = "Social"
LETTER = "Letter"
OTHER = "Other"
CHANNEL_TYPES = (EMAIL, VOICE, MESSAGING, MEETING, VISIT, WEB, SOCIAL, LETTER, OTHER)
_CHANNEL_TYPES_BY_KEY = {channel_type.casefold(): channel_type for channel_type in CHANNEL_TYPES}


def canonical_channel_type(value: str | None) -> str | None:
	"""The stored spelling of a channel type ("voice", " VOICE " -> "Voice"); None when absent, Other when
	unknown."""
	key = (value or "").strip().casefold()
	if not key:
		return None
	return _CHANNEL_TYPES_BY_KEY.get(key, OTHER)


class ChannelInfo(NamedTuple):
	channel: str
	channel_type: str
	direction: str


# Communication.communication_medium -> (channel, channel_type)
COMMUNICATION_MEDIUM_CHANNELS = {
	"Email": ("Email", EMAIL),
	"Chat": ("Website", WEB),
	"Phone": ("Phone", VOICE),
	"SMS": ("SMS", MESSAGING),
	"Event": ("Meeting", MEETING),
	"Meeting": ("Meeting", MEETING),
	"Visit": ("Site Visit", VISIT),
	"Other": ("Other", OTHER),
}
UNKNOWN_MEDIUM_CHANNEL = ("Other", OTHER)
SENT_OR_RECEIVED_DIRECTIONS = {"Sent": OUTBOUND, "Received": INBOUND}

CALL_CHANNEL = ("Phone", VOICE)
CALL_TYPE_DIRECTIONS = {"Incoming": INBOUND, "Outgoing": OUTBOUND, "Missed": INBOUND}
# Call Log.status -> CRM Activity outcome; statuses of calls still in flight map to no outcome.
CALL_STATUS_OUTCOMES = {
	"Completed": "Completed",
	"No Answer": "No Response",
	"Busy": "No Response",
	"Missed": "No Response",
	"Canceled": "No Response",
}

# Event.event_category -> (channel, channel_type); any other category is a meeting.
EVENT_CATEGORY_CHANNELS = {
	"Call": ("Phone", VOICE),
	"Sent/Received Email": ("Email", EMAIL),
}
MEETING_CHANNEL = ("Meeting", MEETING)
EVENT_STATUS_OUTCOMES = {"Completed": "Completed", "Closed": "Completed"}

# Records whose channel does not depend on their fields.
RECORD_CHANNELS = {
	"ToDo": ChannelInfo(N_("Task"), OTHER, INTERNAL),
	"Comment": ChannelInfo(N_("Note"), OTHER, INTERNAL),
	"CRM Note": ChannelInfo("Note", OTHER, INTERNAL),
	"Quotation": ChannelInfo(SALES_DOCUMENT_CHANNEL, OTHER, OUTBOUND),
	"Sales Order": ChannelInfo(SALES_DOCUMENT_CHANNEL, OTHER, OUTBOUND),
	"Sales Invoice": ChannelInfo(SALES_DOCUMENT_CHANNEL, OTHER, OUTBOUND),
	# A click on a link of a sequence email (lead scoring reads them as items with outcome "Clicked"). Not a
	# message from the party: Internal, so it neither counts as contact nor matches rules on Inbound replies.
	"CRM Sequence Step Run": ChannelInfo("Email", EMAIL, INTERNAL),
}


# Rows that are a remark on a document open that document; sales documents are dated, not timed.
OPENS_ITS_REFERENCE = frozenset({"Comment", "CRM Note"})
DATED_SOURCES = frozenset({"Quotation", "Sales Order", "Sales Invoice"})


SUMMARY_LENGTH = 280


def clip_summary(text: str | None, limit: int = SUMMARY_LENGTH) -> str | None:
	"""A row's details, at most limit characters; a text cut short (or read cut short) ends with an ellipsis."""
	text = (text or "").strip()
	if len(text) < limit:
		return text or None
	return text[:limit].rstrip() + "…"


def add_row_target(item: dict) -> dict:
	"""Which document a timeline row opens (``open_doctype``, ``open_name``) and whether its time is a date
	only (``date_only``), in place: a comment or a note opens the document it is about, anything else itself."""
	source = item["source_doctype"]
	opens_reference = (
		source in OPENS_ITS_REFERENCE and item.get("reference_doctype") and item.get("reference_name")
	)
	item["open_doctype"] = item["reference_doctype"] if opens_reference else source
	item["open_name"] = item["reference_name"] if opens_reference else item["source_name"]
	item["date_only"] = source in DATED_SOURCES
	return item


def channel_for_communication(communication_medium: str | None, sent_or_received: str | None) -> ChannelInfo:
	channel, channel_type = COMMUNICATION_MEDIUM_CHANNELS.get(
		communication_medium or "", UNKNOWN_MEDIUM_CHANNEL
	)
	# Unknown directions become Internal so they never count as a contact with the party.
	direction = SENT_OR_RECEIVED_DIRECTIONS.get(sent_or_received or "", INTERNAL)
	return ChannelInfo(channel, channel_type, direction)


def channel_for_call_log(call_type: str | None) -> ChannelInfo:
	return ChannelInfo(*CALL_CHANNEL, CALL_TYPE_DIRECTIONS.get(call_type or "", INTERNAL))


def outcome_for_call_status(status: str | None) -> str | None:
	return CALL_STATUS_OUTCOMES.get(status or "")


def channel_for_event(event_category: str | None = None) -> ChannelInfo:
	channel, channel_type = EVENT_CATEGORY_CHANNELS.get(event_category or "", MEETING_CHANNEL)
	return ChannelInfo(channel, channel_type, OUTBOUND)


def outcome_for_event_status(status: str | None) -> str | None:
	return EVENT_STATUS_OUTCOMES.get(status or "")


def channel_for_record(doctype: str) -> ChannelInfo | None:
	"""Channel of a ToDo, note or sales document; None for doctypes whose channel depends on their fields."""
	return RECORD_CHANNELS.get(doctype)


# Engagement with a sent email: the host's read tracking (the pixel sets read_by_recipient) and a followed link
# (a sequence email's signed redirect records the step run's clicked_on; integrations set delivery_status).
OPENED, CLICKED = N_("Opened"), N_("Clicked")


def email_engagement(read_by_recipient, delivery_status: str | None, clicked_on) -> list[str]:
	"""The badges a sent email's timeline row shows: "Opened", "Clicked", both or none."""
	badges = []
	if read_by_recipient:
		badges.append(OPENED)
	if clicked_on or delivery_status == CLICKED:
		badges.append(CLICKED)
	return badges


def normalise_host_item(item: dict) -> dict:
	"""Give a row read from a host table the feed's vocabulary, in place.

	Rows arrive with the host's own values in ``channel`` (Communication medium, Event category),
	``direction`` (sent_or_received, call type) and ``outcome`` (call or event status).
	"""
	source = item["source_doctype"]
	if source == "CRM Activity":
		return item
	if source == "Communication":
		info = channel_for_communication(item.get("channel"), item.get("direction"))
	elif source == "Call Log":
		info = channel_for_call_log(item.get("direction"))
		item["outcome"] = outcome_for_call_status(item.get("outcome"))
	elif source == "Event":
		info = channel_for_event(item.get("channel"))
		item["outcome"] = outcome_for_event_status(item.get("outcome"))
	else:
		info = channel_for_record(source) or ChannelInfo(*UNKNOWN_MEDIUM_CHANNEL, INTERNAL)
	item.update(channel=info.channel, channel_type=info.channel_type, direction=info.direction)
	return item
