"""Guest endpoint for SMS, messenger and chat gateways.

Each gateway is a CRM Inbound Source with a shared secret. A request carries
``X-CRM-Source``, ``X-CRM-Timestamp`` and ``X-CRM-Signature: sha256=<HMAC-SHA256("<timestamp>.<body>")>``;
anything unsigned, wrongly signed, stale or from an unknown source is refused before a row is written.
Redelivering a message returns the activity it created the first time.
"""

import hashlib
import time

import frappe
from frappe import _
from frappe.utils.password import get_decrypted_password

from crm_extension.activity_log.doctype.crm_activity.crm_activity import insert_once
from crm_extension.activity_log.engine.payload import (
	MAX_BODY_BYTES,
	PayloadError,
	classify_sender,
	parse_inbound_message,
	verify_signature,
)
from crm_extension.activity_log.senders import create_lead, find_party
from crm_extension.activity_log.timezones import to_system_time
from crm_extension.api.errors import RetryLaterError, UnprocessableEntityError, throw_payload_error

SOURCE_HEADER = "X-CRM-Source"
WEBHOOK_SOURCE = "Webhook"
LOCK_TIMEOUT_SECONDS = 10


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive() -> dict:
	source = _authenticated_source()
	try:
		message = parse_inbound_message(frappe.request.get_data(cache=True), MAX_BODY_BYTES)
	except PayloadError as error:
		throw_payload_error(error)
	return {"activity": record_message(source, message)}


def _authenticated_source():
	if (frappe.request.content_length or 0) > MAX_BODY_BYTES:
		throw_payload_error(
			PayloadError(
				"The request body is larger than {max_bytes} bytes", {"max_bytes": MAX_BODY_BYTES}, 413
			)
		)
	source_name = (frappe.get_request_header(SOURCE_HEADER) or "").strip()
	source = source_name and frappe.db.get_value(
		"CRM Inbound Source",
		{"name": source_name, "enabled": 1},
		[
			"name",
			"channel",
			"max_age_seconds",
			"create_lead_for_unknown",
			"phone_region",
			"lead_owner",
			"lead_source",
		],
		as_dict=True,
	)
	if not source:
		frappe.throw(_("Unknown inbound source"), frappe.PermissionError, title=_("Not Allowed"))
	secret = get_decrypted_password("CRM Inbound Source", source.name, "secret", raise_exception=False)
	try:
		verify_signature(
			secret or "",
			frappe.get_request_header("X-CRM-Timestamp"),
			frappe.get_request_header("X-CRM-Signature"),
			frappe.request.get_data(cache=True),
			now=time.time(),
			max_age_seconds=source.max_age_seconds or 300,
		)
	except PayloadError as error:
		throw_payload_error(error)
	return source


def record_message(source, message: dict) -> str:
	"""The activity for this message, created once however often the gateway delivers it."""
	external_id = f"{source.name}:{message['external_id']}"
	party_address = message["from"] if message["direction"] == "Inbound" else message["to"]
	kind, address = classify_sender(party_address, source.phone_region)
	# Deliveries from one sender are serialised until commit, so a redelivery racing the first delivery
	# finds its activity, and two first messages from a stranger do not create two Leads.
	_lock(f"{source.name}:{address or external_id}")
	if existing := frappe.db.get_value(
		"CRM Activity", {"source": WEBHOOK_SOURCE, "external_id": external_id}
	):
		return existing

	party = find_party(kind, address, source.phone_region) if address else None
	if not party:
		if not (address and source.create_lead_for_unknown):
			frappe.throw(
				_("No Contact, Lead or Customer has the address {0}").format(party_address),
				UnprocessableEntityError,
				title=_("Unknown Sender"),
			)
		party = ("Lead", create_lead(kind, address, source))

	activity = frappe.get_doc(
		{
			"doctype": "CRM Activity",
			"channel": source.channel,
			"direction": message["direction"],
			"subject": _subject(message["text"]),
			"details": message["text"],
			"activity_at": to_system_time(message["sent_at"]),
			"reference_doctype": party[0],
			"reference_name": party[1],
			"source": WEBHOOK_SOURCE,
			"inbound_source": source.name,
			"external_id": external_id,
			"from_address": message["from"],
			"to_address": message["to"],
		}
	)
	activity.flags.ignore_permissions = True
	return insert_once(activity)


def _subject(text: str) -> str:
	first_line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
	return first_line[:137] + "..." if len(first_line) > 140 else first_line


def _lock(key: str):
	"""Serialise deliveries about one sender until this request ends.

	Not released on commit: ERPNext commits in the middle of the request when a new Contact is linked to
	past calls, and a lock released there would let a second delivery from the same stranger create a
	second Lead. MariaDB releases named locks when the connection closes, which Frappe does after the
	request's own final commit or rollback.
	"""
	lock_name = "crm_inbound_" + hashlib.sha1(key.encode()).hexdigest()
	acquired = frappe.db.sql("select get_lock(%s, %s)", (lock_name, LOCK_TIMEOUT_SECONDS))[0][0]
	if not acquired:
		frappe.throw(_("Another delivery of this message is still being processed"), RetryLaterError)
