"""Validation of the inbound-message webhook and of the ``log()`` API input.

Every rejection is a ``PayloadError`` carrying a translatable template, its params and the HTTP status.

Webhook signature: ``X-CRM-Timestamp: <unix seconds>`` and ``X-CRM-Signature: sha256=<hex>``, where hex is the
HMAC-SHA256 of ``b"<timestamp>." + raw body`` keyed with the shared secret. Every failure, stale or future
timestamps included, is 401: the request is not authenticated, which is what 401 means (403 would claim the
sender is known but not allowed).

Date-times: the webhook's ``sent_at`` is returned timezone-aware in UTC (naive input is read as UTC, the
convention of messaging providers); the adapter converts it to the system time zone. ``log()``'s
``activity_at`` keeps its own awareness: naive values are already in system time, as Frappe clients send them.
"""

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr

import phonenumbers

from crm_extension.activity_log.engine.feed import DIRECTIONS, INBOUND, OUTBOUND
from crm_extension.i18n import N_

TIMESTAMP_HEADER = "X-CRM-Timestamp"
SIGNATURE_HEADER = "X-CRM-Signature"
SIGNATURE_PREFIX = "sha256="
MAX_BODY_BYTES = 64 * 1024
MAX_NAME_LENGTH = 140
MAX_ADDRESS_LENGTH = 320
MAX_TEXT_LENGTH = 10_000
MAX_DETAILS_LENGTH = 50_000
MAX_EMAIL_LENGTH = 254
MAX_PHONE_INPUT_LENGTH = 64

MESSAGE_DIRECTIONS = (INBOUND, OUTBOUND)
OUTCOMES = ("Completed", "No Response", "Replied", "Interested", "Not Interested", "Meeting Held", "Bounced")
REFERENCE_DOCTYPES = ("Lead", "Opportunity", "Customer", "Contact", "Prospect", "Quotation", "Sales Order")

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_ISO_DATETIME = re.compile(
	r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?",
	re.ASCII | re.IGNORECASE,
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_URI_SCHEME = re.compile(r"(?:tel|sms|whatsapp):", re.IGNORECASE)
_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)


class PayloadError(Exception):
	def __init__(self, template: str, params: dict | None = None, http_status: int = 400):
		self.template = template
		self.params = params or {}
		self.http_status = http_status
		super().__init__(template.format(**self.params))


# --- webhook signature ---


def sign(secret: str, timestamp: int | str, raw_body: bytes) -> str:
	"""The ``X-CRM-Signature`` value a client sends with ``X-CRM-Timestamp: <timestamp>``."""
	message = f"{timestamp}.".encode() + raw_body
	return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
	secret: str,
	timestamp_header: str | None,
	signature_header: str | None,
	raw_body: bytes,
	now: float,
	max_age_seconds: int,
) -> int:
	"""Return the verified timestamp or raise ``PayloadError`` (401; 500 when no secret is configured)."""
	if not secret:
		raise PayloadError(N_("The webhook secret is not configured"), http_status=500)
	timestamp_text = _header_match(_TIMESTAMP, timestamp_header, TIMESTAMP_HEADER).group(0)
	digest = _header_match(_SIGNATURE, signature_header, SIGNATURE_HEADER).group(1).lower()
	if abs(now - int(timestamp_text)) > max_age_seconds:
		raise PayloadError(
			N_("The request timestamp is more than {max_age_seconds} seconds away from the server time"),
			{"max_age_seconds": max_age_seconds},
			401,
		)
	expected = sign(secret, timestamp_text, raw_body).removeprefix(SIGNATURE_PREFIX)
	if not hmac.compare_digest(digest, expected):
		raise PayloadError(N_("The request signature is not valid"), http_status=401)
	return int(timestamp_text)


def _header_match(pattern: re.Pattern, value: str | None, header: str) -> re.Match:
	if not value or not value.strip():
		raise PayloadError(N_("The {header} header is missing"), {"header": header}, 401)
	match = pattern.fullmatch(value.strip())
	if not match:
		raise PayloadError(N_("The {header} header is malformed"), {"header": header}, 401)
	return match


# --- webhook body ---


def parse_inbound_message(raw_body: bytes, max_bytes: int = MAX_BODY_BYTES) -> dict:
	"""Return ``{external_id, direction, from, to, text, sent_at}``; unknown fields are ignored."""
	data = _load_json_object(raw_body, max_bytes)
	return {
		"external_id": _clean_text(data.get("external_id"), "external_id", MAX_NAME_LENGTH, required=True),
		"direction": _choice(data.get("direction"), "direction", MESSAGE_DIRECTIONS, required=True),
		"from": _clean_text(data.get("from"), "from", MAX_ADDRESS_LENGTH, required=True),
		"to": _clean_text(data.get("to"), "to", MAX_ADDRESS_LENGTH, required=True),
		"text": _message_text(data.get("text")),
		"sent_at": _as_utc(_clean_datetime(data.get("sent_at"), "sent_at", required=True), "sent_at"),
	}


def _load_json_object(raw_body: bytes, max_bytes: int) -> dict:
	if len(raw_body) > max_bytes:
		raise PayloadError(
			N_("The request body is larger than {max_bytes} bytes"), {"max_bytes": max_bytes}, 413
		)
	try:
		data = json.loads(raw_body)
	except (ValueError, RecursionError):
		raise PayloadError(N_("The request body is not valid JSON"))
	if not isinstance(data, dict):
		raise PayloadError(N_("The request body must be a JSON object"))
	return data


def _message_text(value: object) -> str:
	if value is None:
		raise PayloadError(N_("{field} is required"), {"field": "text"})
	return _clean_text(value, "text", MAX_TEXT_LENGTH, strip=False) or ""


def _as_utc(value: datetime, field: str) -> datetime:
	try:
		return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
	except OverflowError:
		raise _invalid_datetime(field)


# --- log() input ---


def validate_activity_input(
	*,
	channel: str,
	direction: str,
	reference_doctype: str,
	reference_name: str,
	activity_at: datetime | str | None = None,
	outcome: str | None = None,
	duration: int | float | str | None = None,
	subject: str | None = None,
	details: str | None = None,
	external_id: str | None = None,
) -> dict:
	"""Return the cleaned fields (same names); optional empty values become None."""
	return {
		"channel": _clean_text(channel, "channel", MAX_NAME_LENGTH, required=True),
		"direction": _choice(direction, "direction", DIRECTIONS, required=True),
		"reference_doctype": _choice(
			reference_doctype, "reference_doctype", REFERENCE_DOCTYPES, required=True
		),
		"reference_name": _clean_text(reference_name, "reference_name", MAX_NAME_LENGTH, required=True),
		"activity_at": _clean_datetime(activity_at, "activity_at"),
		"outcome": _choice(outcome, "outcome", OUTCOMES),
		"duration": _clean_duration(duration),
		"subject": _clean_text(subject, "subject", MAX_NAME_LENGTH),
		"details": _clean_text(details, "details", MAX_DETAILS_LENGTH, strip=False),
		"external_id": _clean_text(external_id, "external_id", MAX_NAME_LENGTH),
	}


def _clean_duration(value: object) -> int | None:
	if value is None or value == "":
		return None
	seconds = _whole_number(value)
	if seconds is None or seconds < 0:
		raise PayloadError(N_("{field} must be a whole number of seconds, 0 or more"), {"field": "duration"})
	return seconds


def _whole_number(value: object) -> int | None:
	if isinstance(value, bool):
		return None
	if isinstance(value, int):
		return value
	if isinstance(value, float) and value.is_integer():
		return int(value)
	if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
		return int(value.strip())
	return None


# --- field helpers ---


def _clean_text(
	value: object, field: str, max_length: int, required: bool = False, strip: bool = True
) -> str | None:
	if value is not None and not isinstance(value, str):
		raise PayloadError(N_("{field} must be a string"), {"field": field})
	text = (value.strip() if strip else value) if value else ""
	if not text:
		if required:
			raise PayloadError(N_("{field} is required"), {"field": field})
		return None
	if len(text) > max_length:
		raise PayloadError(
			N_("{field} must be at most {max_length} characters"), {"field": field, "max_length": max_length}
		)
	if not _encodable(text):
		raise PayloadError(N_("{field} contains characters that are not valid text"), {"field": field})
	return text


def _encodable(text: str) -> bool:
	# JSON may carry lone surrogates ("\ud800") that the database cannot store.
	try:
		text.encode("utf-8")
	except UnicodeEncodeError:
		return False
	return True


def _choice(value: object, field: str, allowed: tuple[str, ...], required: bool = False) -> str | None:
	text = _clean_text(value, field, MAX_NAME_LENGTH, required=required)
	if text is None:
		return None
	canonical = {option.casefold(): option for option in allowed}.get(text.casefold())
	if canonical is None:
		raise PayloadError(
			N_("{field} must be one of: {allowed}"), {"field": field, "allowed": ", ".join(allowed)}
		)
	return canonical


def _clean_datetime(value: object, field: str, required: bool = False) -> datetime | None:
	if isinstance(value, datetime):
		return value
	text = _clean_text(value, field, 64, required=required)
	if text is None:
		return None
	match = _ISO_DATETIME.fullmatch(text)
	if not match:
		raise _invalid_datetime(field)
	try:
		return _datetime_from_match(match)
	except (ValueError, OverflowError):
		raise _invalid_datetime(field)


def _datetime_from_match(match: re.Match) -> datetime:
	year, month, day, hour, minute, second, fraction, offset = match.groups()
	microsecond = int((fraction or "0")[:6].ljust(6, "0"))
	parts = (int(year), int(month), int(day), int(hour), int(minute), int(second or 0), microsecond)
	return datetime(*parts, tzinfo=_parse_offset(offset))


def _parse_offset(offset: str | None) -> timezone | None:
	if offset is None:
		return None
	if offset.upper() == "Z":
		return timezone.utc
	digits = offset[1:].replace(":", "")
	delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
	return timezone(-delta if offset[0] == "-" else delta)


def _invalid_datetime(field: str) -> PayloadError:
	return PayloadError(
		N_("{field} must be an ISO 8601 date-time, e.g. 2024-05-01T14:30:00+03:30"), {"field": field}
	)


# --- sender normalisation ---


def normalise_phone(raw: str | None, default_region: str | None = None) -> str | None:
	"""E.164 form of a valid phone number (Persian/Arabic-Indic digits accepted), else None."""
	if not isinstance(raw, str):
		return None
	text = _URI_SCHEME.sub("", raw.translate(_LOCAL_DIGITS).strip(), count=1).strip()
	if not text or len(text) > MAX_PHONE_INPUT_LENGTH:
		return None
	try:
		number = phonenumbers.parse(text, default_region.upper() if default_region else None)
	except phonenumbers.NumberParseException:
		return None
	if not phonenumbers.is_valid_number(number):
		return None
	return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str | None) -> str | None:
	"""Lower-cased address from ``a@b.c`` or ``Name <a@b.c>``, else None."""
	if not isinstance(raw, str) or len(raw) > MAX_ADDRESS_LENGTH:
		return None
	address = parseaddr(raw.strip())[1].strip().lower()
	if len(address) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(address):
		return None
	return address


def classify_sender(value: str | None, default_region: str | None = None) -> tuple[str | None, str | None]:
	"""("email", address) | ("phone", e164) | (None, None)."""
	if not isinstance(value, str):
		return None, None
	if "@" in value:
		email = normalise_email(value)
		return ("email", email) if email else (None, None)
	phone = normalise_phone(value, default_region)
	return ("phone", phone) if phone else (None, None)
