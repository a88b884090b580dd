"""Index keys of party addresses and of senders (engine.addresses)."""

from crm_extension.activity_log.engine.addresses import is_same_address, lookup_keys, stored_key
from crm_extension.activity_log.engine.payload import classify_sender


def keys_of_sender(raw: str, region: str = "IR") -> list[str]:
	kind, address = classify_sender(raw, region)
	return lookup_keys(kind, address, raw)


def test_every_way_of_writing_a_phone_number_shares_the_key_of_the_sender():
	sender = keys_of_sender("+989121234567")
	for stored in ("0912 123 4567", "+98 (912) 123-4567", "۰۹۱۲۱۲۳۴۵۶۷", "00989121234567"):
		assert stored_key("phone", stored) in sender


def test_an_email_is_keyed_lower_cased_without_its_display_name():
	assert keys_of_sender("Reza <Reza@Example.COM>") == ["reza@example.com"]
	assert stored_key("email", "reza@example.com") == "reza@example.com"


def test_a_short_code_is_looked_up_by_its_text_and_its_digits():
	assert keys_of_sender("3000 1234") == ["3000 1234", "30001234"]


def test_an_alphanumeric_sender_id_is_looked_up_by_its_case_folded_text():
	assert keys_of_sender("  MyBank ") == ["mybank"]
	assert stored_key("sender", "MYBANK") == "mybank"


def test_a_key_is_only_a_candidate_confirmed_against_the_stored_address():
	kind, address = classify_sender("+989121234567", "IR")
	assert is_same_address(kind, address, "+989121234567", "phone", "0912 123 4567", "IR")
	assert not is_same_address(kind, address, "+989121234567", "phone", "+44 912 123 4567", "IR")
	assert is_same_address(None, None, "MyBank", "sender", "mybank", "IR")
	assert is_same_address(None, None, "3000 1234", "phone", "30001234", "IR")
	assert not is_same_address(None, None, "MyBank", "phone", "30001234", "IR")
