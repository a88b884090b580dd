"""REST API for the mobile app and integrations: log an activity, read a party's feed."""

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime

from crm_extension.activity_log.doctype.crm_activity.crm_activity import find_by_external_id, insert_once
from crm_extension.activity_log.engine.feed import OUTBOUND
from crm_extension.activity_log.engine.payload import (
	REFERENCE_DOCTYPES,
	PayloadError,
	validate_activity_input,
)
from crm_extension.activity_log.feed import FEED_PARTY_DOCTYPES, MAX_PAGE_LENGTH, get_feed
from crm_extension.activity_log.refresh import queue_preferred_channel_refresh
from crm_extension.activity_log.timezones import to_system_time
from crm_extension.api.errors import throw_payload_error
from crm_extension.lead_scoring.jobs import queue_for_reference

API_SOURCE = "API"
MAX_TIMELINE_START = 10_000


@frappe.whitelist(methods=["POST"])
def log(
	reference_doctype: str,
	reference_name: str,
	channel: str,
	direction: str,
	subject: str | None = None,
	details: str | None = None,
	outcome: str | None = None,
	activity_at: str | None = None,
	duration: int | None = None,
	external_id: str | None = None,
	follow_up_on: str | None = None,
) -> str:
	"""Log one interaction and return the CRM Activity's name; an external_id seen before returns the
	activity it created, never a duplicate."""
	try:
		values = validate_activity_input(
			channel=channel,
			direction=direction,
			reference_doctype=reference_doctype,
			reference_name=reference_name,
			activity_at=activity_at,
			outcome=outcome,
			duration=duration,
			subject=subject,
			details=details,
			external_id=external_id,
		)
	except PayloadError as error:
		throw_payload_error(error)

	check_exists(values["reference_doctype"], values["reference_name"])
	check_channel(values["channel"])
	if values["external_id"] and (existing := find_by_external_id(API_SOURCE, values["external_id"])):
		return readable(existing)

	activity = frappe.get_doc(
		{
			"doctype": "CRM Activity",
			**values,
			"activity_at": to_system_time(values["activity_at"]) or now_datetime(),
			"source": API_SOURCE,
			"performed_by": frappe.session.user,
			"follow_up_on": parse_follow_up_date(follow_up_on),
		}
	)
	# insert() checks create permission through the CRM Activity permission hook, which needs read access to
	# the reference document: a user cannot log against a Lead they may not open.
	name = insert_once(activity)
	return name if name == activity.name else readable(name)


def readable(activity: str) -> str:
	frappe.has_permission("CRM Activity", "read", activity, throw=True)
	return activity


@frappe.whitelist(methods=["GET", "POST"])
def timeline(
	reference_doctype: str,
	reference_name: str,
	start: int = 0,
	page_length: int = 20,
	channel: str | None = None,
) -> list[dict]:
	"""A page of everything that happened with a party, newest first, across every channel."""
	if reference_doctype not in FEED_PARTY_DOCTYPES:
		frappe.throw(
			_("A timeline is available for {0}").format(", ".join(_(dt) for dt in FEED_PARTY_DOCTYPES)),
			title=_("Invalid Reference"),
		)
	check_exists(reference_doctype, reference_name)
	frappe.has_permission(reference_doctype, "read", reference_name, throw=True)
	start = max(int(start or 0), 0)
	if start > MAX_TIMELINE_START:
		# each source is read up to start + page_length rows: an unbounded offset is an unbounded read
		frappe.throw(_("start must be at most {0}").format(MAX_TIMELINE_START), title=_("Invalid Request"))
	page_length = min(max(int(page_length or 20), 1), MAX_PAGE_LENGTH)
	return get_feed(reference_doctype, reference_name, start, page_length, channel or None)


@frappe.whitelist(methods=["GET", "POST"])
def log_defaults(reference_doctype: str, reference_name: str) -> dict:
	"""What the "Log Activity" dialog starts from: the party's preferred channel (an Opportunity's is its
	party's), Outbound, now."""
	if reference_doctype not in FEED_PARTY_DOCTYPES:
		frappe.throw(
			_("Activities are logged against {0}").format(", ".join(_(dt) for dt in FEED_PARTY_DOCTYPES))
		)
	check_exists(reference_doctype, reference_name)
	frappe.has_permission(reference_doctype, "read", reference_name, throw=True)
	return {"channel": preferred_channel(reference_doctype, reference_name), "direction": OUTBOUND}


def preferred_channel(doctype: str, name: str) -> str | None:
	if doctype == "Opportunity":
		party = frappe.db.get_value("Opportunity", name, ["opportunity_from", "party_name"])
		doctype, name = party or (None, None)
	if not doctype or not name or not frappe.get_meta(doctype).has_field("preferred_channel"):
		return None
	channel = frappe.db.get_value(doctype, name, "preferred_channel")
	return channel if channel and not frappe.get_cached_value("CRM Channel", channel, "disabled") else None


def parse_follow_up_date(value: str | None):
	if not value:
		return None
	try:
		return getdate(value)
	except Exception:
		frappe.throw(_("follow_up_on must be a date, e.g. 2024-05-01"), title=_("Invalid Request"))


def check_exists(doctype: str, name: str):
	if not frappe.db.exists(doctype, name):
		frappe.throw(
			_("{0} {1} does not exist").format(_(doctype), frappe.bold(name)),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)


def check_channel(channel: str):
	disabled = frappe.get_cached_value("CRM Channel", channel, "disabled")
	if disabled is None:
		frappe.throw(_("Unknown channel {0}").format(frappe.bold(channel)), title=_("Invalid Channel"))
	if disabled:
		frappe.throw(_("Channel {0} is disabled").format(frappe.bold(channel)), title=_("Invalid Channel"))


@frappe.whitelist(methods=["POST"])
def attach_unmatched(activity: str, reference_doctype: str, reference_name: str) -> str:
	"""File an unmatched webhook activity (a sender nobody had) against a party the caller may read and
	write activities about; returns the activity's name."""
	check_exists("CRM Activity", activity)
	frappe.has_permission("CRM Activity", "read", activity, throw=True)
	if not frappe.db.get_value("CRM Activity", activity, "unmatched"):
		frappe.throw(_("This activity is already filed against a party"), title=_("Not Unmatched"))
	if reference_doctype not in REFERENCE_DOCTYPES:
		frappe.throw(
			_("Activities can be logged against {0}, not {1}").format(
				", ".join(_(doctype) for doctype in REFERENCE_DOCTYPES), _(reference_doctype)
			)
		)
	check_exists(reference_doctype, reference_name)
	frappe.has_permission(reference_doctype, "read", reference_name, throw=True)
	frappe.has_permission("CRM Activity", "create", throw=True)
	doc = frappe.get_doc("CRM Activity", activity)
	doc.reference_doctype, doc.reference_name, doc.unmatched = reference_doctype, reference_name, 0
	doc.save(ignore_permissions=True)  # checked above; a webhook activity is otherwise read-only
	queue_preferred_channel_refresh(reference_doctype, reference_name)
	queue_for_reference(reference_doctype, reference_name)
	return doc.name
