"""Keys under which a party's addresses are indexed, so the webhook finds a sender with one index lookup.

Host records keep phone numbers as people typed them ("0912 123 4567", "+98 912..."): a phone is keyed by
its last ``PHONE_KEY_DIGITS`` digits (Persian and Arabic-Indic digits read as digits), which every way of
writing the same number shares, and a candidate found by key is confirmed by normalising it. An e-mail
address is keyed as ``normalise_email`` gives it. A sender the phone library calls invalid (a short code, an
alphanumeric sender id, a number outside its metadata) is looked up by its phone key when it has digits
enough, and by its ``sender`` key — its text, stripped and case-folded — which is what the webhook indexes
for a Lead it creates for such a sender.
"""

import re

from crm_extension.activity_log.engine.payload import normalise_email, normalise_phone

PHONE_KEY_DIGITS = 9
MIN_PHONE_KEY_DIGITS = 3
MAX_KEY_LENGTH = 320
PHONE, EMAIL, SENDER = "phone", "email", "sender"

_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
_PHONE_TEXT = re.compile(r"(?:(?:tel|sms|whatsapp):)?\s*\+?[0-9\s().\-/]+", re.IGNORECASE)


def digits(value: str | None) -> str:
	return "".join(ch for ch in (value or "").translate(_LOCAL_DIGITS) if ch.isdigit())


def phone_key(value: str | None) -> str | None:
	found = digits(value)
	return found[-PHONE_KEY_DIGITS:] if len(found) >= MIN_PHONE_KEY_DIGITS else None


def sender_key(value: str | None) -> str | None:
	text = " ".join((value or "").split()).casefold()
	return text[:MAX_KEY_LENGTH] or None


def stored_key(kind: str, value: str | None) -> str | None:
	"""The key of an address a party stores in a field of ``kind`` (phone, email, sender)."""
	if kind == PHONE:
		return phone_key(value)
	if kind == EMAIL:
		return normalise_email(value)
	return sender_key(value)


def lookup_keys(kind: str | None, address: str | None, raw: str) -> list[str]:
	"""The keys to look a sender up by: ``kind`` and ``address`` as ``classify_sender`` gave them (None for
	a sender it could not read), ``raw`` as the gateway sent it."""
	if kind == EMAIL:
		return [address]
	if kind == PHONE:
		return [phone_key(address)]
	keys = [sender_key(raw)]
	if _PHONE_TEXT.fullmatch((raw or "").translate(_LOCAL_DIGITS).strip()) and phone_key(raw):
		keys.append(phone_key(raw))
	return [key for key in dict.fromkeys(keys) if key]


def is_same_address(
	kind: str | None, address: str | None, raw: str, row_kind: str, row_address: str, region: str | None
) -> bool:
	"""Whether an indexed row found by key is really the sender (a key is only a candidate)."""
	if kind == EMAIL:
		return row_kind == EMAIL
	if kind == PHONE:
		return row_kind == PHONE and normalise_phone(row_address, region) == address
	if row_kind == SENDER:
		return sender_key(row_address) == sender_key(raw)
	return row_kind == PHONE and digits(row_address) == digits(raw)
