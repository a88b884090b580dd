"""Guest endpoint for SMS, messenger and chat gateways.

Each gateway is a CRM Inbound Source with a shared secret. A request carries
``X-CRM-Source``, ``X-CRM-Timestamp`` and ``X-CRM-Signature: sha256=<HMAC-SHA256("<timestamp>.<body>")>``.
Before a row is written: a body over 64 KiB is 413; a client address over its rate limit is 429; anything
unsigned, wrongly signed, stale or from an unknown or disabled source is the same 401 (an unknown source is
checked against a random secret, so source names cannot be probed); a source over its own rate limit is 429;
a source without a secret is a server configuration error, logged and answered 500.

A validly signed message is never lost: it is filed against the Contact, Lead or Customer with the sender's
address (found in the CRM Party Address index), else against a new Lead when the source creates Leads (named
by the raw address when the phone library cannot read it: a short code, a sender id), else stored as an
unmatched activity for a user to attach to a party. Redelivering a message returns the activity it created
the first time. Errors are answered with a short reason (``_server_messages``), never a traceback.
"""

import hashlib
import time

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit
from frappe.utils.password import get_decrypted_password

from crm_extension.activity_log.doctype.crm_activity.crm_activity import insert_once
from crm_extension.activity_log.engine.addresses import sender_key
from crm_extension.activity_log.engine.payload import (
	MAX_BODY_BYTES,
	PayloadError,
	classify_sender,
	parse_inbound_message,
	verify_signature,
)
from crm_extension.activity_log.senders import create_lead, find_party
from crm_extension.activity_log.timezones import to_system_time
from crm_extension.api.errors import InboundServerError, RetryLaterError, throw_payload_error

SOURCE_HEADER = "X-CRM-Source"
WEBHOOK_SOURCE = "Webhook"
LOCK_TIMEOUT_SECONDS = 10
RATE_WINDOW_SECONDS = 60
CLIENT_RATE_LIMIT = 300  # deliveries per client address a minute; site config crm_inbound_client_rate_limit
SOURCE_RATE_LIMIT = 600  # per source a minute, unless the source sets its own
SOURCE_FIELDS = (
	"name",
	"channel",
	"max_age_seconds",
	"create_lead_for_unknown",
	"phone_region",
	"lead_owner",
	"lead_source",
	"rate_limit_per_minute",
)


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive() -> dict:
	frappe.local.flags.disable_traceback = True  # a gateway gets a short reason, never a traceback
	try:
		_check_body_size()
		_limit("crm_inbound_client", getattr(frappe.local, "request_ip", None), client_rate_limit())
		source = _authenticated_source()
		_limit("crm_inbound_source", source.name, source.rate_limit_per_minute or SOURCE_RATE_LIMIT)
		try:
			message = parse_inbound_message(frappe.request.get_data(cache=True), MAX_BODY_BYTES)
		except PayloadError as error:
			throw_payload_error(error)
		return {"activity": record_message(source, message)}
	except (frappe.ValidationError, frappe.AuthenticationError, frappe.PermissionError):
		raise
	except Exception:
		# Frappe logs it as it logs any 5xx; the gateway is told to deliver again, not why
		frappe.throw(_("The message could not be stored: deliver it again later"), InboundServerError)


def client_rate_limit() -> int:
	return int(frappe.conf.get("crm_inbound_client_rate_limit") or CLIENT_RATE_LIMIT)


def _check_body_size():
	if (frappe.request.content_length or 0) > MAX_BODY_BYTES:
		throw_payload_error(
			PayloadError(
				"The request body is larger than {max_bytes} bytes", {"max_bytes": MAX_BODY_BYTES}, 413
			)
		)


def _limit(name: str, identity: str | None, limit: int):
	"""Frappe's rate limiter (429 when exceeded) for this identity, counted per minute."""
	if not identity or limit <= 0:
		return
	frappe.form_dict[name] = f"{name}:{identity}"
	rate_limit(key=name, limit=limit, seconds=RATE_WINDOW_SECONDS, ip_based=False)(_allowed)()


def _allowed():
	return True


def _authenticated_source():
	source_name = (frappe.get_request_header(SOURCE_HEADER) or "").strip()
	source = source_name and frappe.db.get_value(
		"CRM Inbound Source", {"name": source_name, "enabled": 1}, SOURCE_FIELDS, as_dict=True
	)
	secret = (
		get_decrypted_password("CRM Inbound Source", source.name, "secret", raise_exception=False)
		if source
		else None
	)
	if source and not secret:
		frappe.log_error(
			title=_("Inbound source without a secret"),
			message=_("CRM Inbound Source {0} has no secret: every delivery to it is refused").format(
				source.name
			),
			reference_doctype="CRM Inbound Source",
			reference_name=source.name,
			defer_insert=True,  # the request is rolled back
		)
	try:
		verify_signature(
			# an unknown source fails as a wrong signature does, after the same work
			secret if source else frappe.generate_hash(length=32),
			frappe.get_request_header("X-CRM-Timestamp"),
			frappe.get_request_header("X-CRM-Signature"),
			frappe.request.get_data(cache=True),
			now=time.time(),
			max_age_seconds=(source.max_age_seconds if source else 0) or 300,
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
	_lock(f"{source.name}:{address or sender_key(party_address) or external_id}")
	if existing := frappe.db.get_value(
		"CRM Activity", {"source": WEBHOOK_SOURCE, "external_id": external_id}
	):
		return existing

	party = find_party(kind, address, source.phone_region, party_address)
	if not party and source.create_lead_for_unknown:
		party = ("Lead", create_lead(kind, address or party_address, source))

	activity = frappe.get_doc(
		{
			"doctype": "CRM Activity",
			"channel": source.channel,
			"direction": message["direction"],
			"subject": _subject(message["text"]),
			"details": message["text"],
			"activity_at": to_system_time(message["sent_at"]),
			"reference_doctype": party[0] if party else None,
			"reference_name": party[1] if party else None,
			"unmatched": 0 if party else 1,
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
