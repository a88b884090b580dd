import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_extension.activity_log.engine.payload import PayloadError, sign, verify_signature

SECRET = "s3cret-key"
BODY = b'{"external_id": "wamid.1", "text": "salam"}'
NOW = 1_717_000_000
MAX_AGE = 300


def verify(timestamp=str(NOW), signature=None, body=BODY, secret=SECRET, now=NOW):
	signature = sign(SECRET, timestamp, BODY) if signature is None else signature
	return verify_signature(secret, timestamp, signature, body, float(now), MAX_AGE)


def rejection(**overrides) -> PayloadError:
	with pytest.raises(PayloadError) as caught:
		verify(**overrides)
	return caught.value


def test_signature_header_is_sha256_hmac_of_timestamp_dot_body():
	expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
	assert sign(SECRET, NOW, BODY) == f"sha256={expected}"


def test_valid_signature_passes_and_returns_the_timestamp():
	assert verify() == NOW


def test_uppercase_hex_and_surrounding_whitespace_are_accepted():
	signature = "sha256=" + sign(SECRET, NOW, BODY).removeprefix("sha256=").upper()
	assert verify(timestamp=f" {NOW} ", signature=f" {signature} ") == NOW


def test_tampered_body_is_rejected():
	error = rejection(body=BODY.replace(b"salam", b"salaam"))
	assert error.http_status == 401
	assert error.template == "The request signature is not valid"


def test_wrong_secret_is_rejected():
	assert rejection(secret="another-secret").http_status == 401


@pytest.mark.parametrize(
	"overrides, header",
	[
		({"timestamp": None}, "X-CRM-Timestamp"),
		({"timestamp": "  "}, "X-CRM-Timestamp"),
		({"signature": ""}, "X-CRM-Signature"),
	],
)
def test_missing_header_is_rejected_naming_the_header(overrides, header):
	error = rejection(**overrides)
	assert (error.http_status, error.params) == (401, {"header": header})
	assert header in str(error)


@pytest.mark.parametrize(
	"overrides, header",
	[
		({"timestamp": "1717000000.5"}, "X-CRM-Timestamp"),
		({"timestamp": "yesterday"}, "X-CRM-Timestamp"),
		({"timestamp": "۱۷۱۷۰۰۰۰۰۰"}, "X-CRM-Timestamp"),
		({"signature": "sha1=" + "a" * 40}, "X-CRM-Signature"),
		({"signature": "sha256=" + "g" * 64}, "X-CRM-Signature"),
		({"signature": "sha256=" + "a" * 63}, "X-CRM-Signature"),
		({"signature": "a" * 64}, "X-CRM-Signature"),
	],
)
def test_malformed_header_is_rejected_naming_the_header(overrides, header):
	error = rejection(**overrides)
	assert (error.http_status, error.params) == (401, {"header": header})
	assert error.template == "The {header} header is malformed"


@pytest.mark.parametrize("offset", [-(MAX_AGE + 1), MAX_AGE + 1, -86_400, 86_400])
def test_stale_and_future_timestamps_are_rejected(offset):
	timestamp = str(NOW + offset)
	error = rejection(timestamp=timestamp, signature=sign(SECRET, timestamp, BODY))
	assert (error.http_status, error.params) == (401, {"max_age_seconds": MAX_AGE})


@pytest.mark.parametrize("offset", [-MAX_AGE, MAX_AGE])
def test_timestamps_at_the_edge_of_the_allowed_age_pass(offset):
	timestamp = str(NOW + offset)
	assert verify(timestamp=timestamp, signature=sign(SECRET, timestamp, BODY)) == NOW + offset


def test_empty_secret_refuses_to_verify_anything():
	error = rejection(secret="", signature=sign("", str(NOW), BODY))
	assert error.http_status == 500


@settings(deadline=None)
@given(
	secret=st.text(min_size=1),
	body=st.binary(max_size=2048),
	timestamp=st.integers(min_value=0, max_value=10**12 - 1),
	skew=st.integers(min_value=-MAX_AGE, max_value=MAX_AGE),
)
def test_a_signature_made_by_sign_always_verifies(secret, body, timestamp, skew):
	signature = sign(secret, timestamp, body)
	assert verify_signature(secret, str(timestamp), signature, body, timestamp + skew, MAX_AGE) == timestamp


@settings(deadline=None)
@given(body=st.binary(max_size=512), other_body=st.binary(max_size=512))
def test_a_signature_never_verifies_a_different_body(body, other_body):
	if body == other_body:
		other_body += b" "
	with pytest.raises(PayloadError):
		verify_signature(SECRET, str(NOW), sign(SECRET, NOW, body), other_body, NOW, MAX_AGE)
