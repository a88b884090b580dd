import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_extension.activity_log.engine.payload import classify_sender, normalise_email, normalise_phone


@pytest.mark.parametrize(
	"raw",
	[
		"09121234567",
		"0912 123 4567",
		"0912-123-4567",
		"+98 912 123 4567",
		"00989121234567",
		"989121234567",
		"۰۹۱۲۱۲۳۴۵۶۷",
		"٠٩١٢١٢٣٤٥٦٧",
		"+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
		"tel:+989121234567",
		"whatsapp:+989121234567",
	],
)
def test_iranian_mobile_numbers_in_any_writing_become_e164(raw):
	assert normalise_phone(raw, "IR") == "+989121234567"


def test_region_code_is_case_insensitive():
	assert normalise_phone("09121234567", "ir") == "+989121234567"


@pytest.mark.parametrize(
	"raw, region, expected",
	[
		("+1 (650) 253-0000", None, "+16502530000"),
		("+1 650 253 0000", "IR", "+16502530000"),
		("(650) 253-0000", "US", "+16502530000"),
		("020 7946 0958", "GB", "+442079460958"),
		("+49 30 901820", "IR", "+4930901820"),
		("021 1234 5678", "IR", "+982112345678"),
	],
)
def test_international_and_national_formats_become_e164(raw, region, expected):
	assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
	"raw, region",
	[("12345", "IR"), ("09121234567", None), ("call me", "IR"), ("", "IR"), (None, "IR"), (912, "IR")],
)
def test_invalid_or_unplaceable_numbers_give_none(raw, region):
	assert normalise_phone(raw, region) is None


@pytest.mark.parametrize(
	"raw, expected",
	[
		(" Ali.Rezaei@Example.COM ", "ali.rezaei@example.com"),
		("Ali Rezaei <ali@example.ir>", "ali@example.ir"),
		("sales+crm@mail.example.co.uk", "sales+crm@mail.example.co.uk"),
	],
)
def test_emails_are_stripped_and_lowercased(raw, expected):
	assert normalise_email(raw) == expected


@pytest.mark.parametrize(
	"raw", ["not-an-email", "a@b", "@example.com", "a@@example.com", "a b@example.com", "", None]
)
def test_invalid_emails_give_none(raw):
	assert normalise_email(raw) is None


@pytest.mark.parametrize(
	"value, expected",
	[
		("Ali@Example.com", ("email", "ali@example.com")),
		("۰۹۱۲۱۲۳۴۵۶۷", ("phone", "+989121234567")),
		("whatsapp:+989121234567", ("phone", "+989121234567")),
		("broken@", (None, None)),
		("unknown sender", (None, None)),
		(None, (None, None)),
	],
)
def test_classify_sender_tells_email_from_phone(value, expected):
	assert classify_sender(value, "IR") == expected


@settings(deadline=None)
@given(st.text(max_size=80), st.sampled_from([None, "IR", "US", "GB", "XX", "ir"]))
def test_normalisers_never_raise_and_phone_output_is_stable_e164(value, region):
	phone = normalise_phone(value, region)
	email = normalise_email(value)
	kind, normalised = classify_sender(value, region)

	if phone is not None:
		assert phone.startswith("+") and phone[1:].isascii() and phone[1:].isdigit()
		assert normalise_phone(phone, None) == phone
	if email is not None:
		assert email == email.lower().strip() and "@" in email
	assert (kind, normalised) in {(None, None), ("email", email), ("phone", phone)}


@settings(deadline=None)
@given(st.from_regex(r"09[0-9]{9}", fullmatch=True))
def test_persian_digits_normalise_like_ascii_digits(number):
	persian = number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
	assert normalise_phone(persian, "IR") == normalise_phone(number, "IR")
