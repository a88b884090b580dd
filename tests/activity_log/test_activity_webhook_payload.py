import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_extension.activity_log.engine.payload import PayloadError, parse_inbound_message

MESSAGE = {
	"external_id": "wamid.HBgM",
	"direction": "Inbound",
	"from": "+98 912 123 4567",
	"to": "+98 21 1234 5678",
	"text": "  Salam, price list please ",
	"sent_at": "2024-05-01T14:30:00+03:30",
}
FIELDS = tuple(MESSAGE)


def body(**changes) -> bytes:
	return json.dumps({**MESSAGE, **changes}).encode()


def body_without(field) -> bytes:
	return json.dumps({key: value for key, value in MESSAGE.items() if key != field}).encode()


def rejection(raw_body, **kwargs) -> PayloadError:
	with pytest.raises(PayloadError) as caught:
		parse_inbound_message(raw_body, **kwargs)
	return caught.value


def test_valid_message_is_normalised_and_unknown_fields_ignored():
	parsed = parse_inbound_message(body(direction="inbound", provider="whatsapp", external_id=" wamid.HBgM "))

	assert parsed == {
		"external_id": "wamid.HBgM",
		"direction": "Inbound",
		"from": "+98 912 123 4567",
		"to": "+98 21 1234 5678",
		"text": "  Salam, price list please ",
		"sent_at": datetime(2024, 5, 1, 11, 0, tzinfo=timezone.utc),
	}


@pytest.mark.parametrize(
	"sent_at, expected",
	[
		("2024-05-01T11:00:00Z", datetime(2024, 5, 1, 11, 0, tzinfo=timezone.utc)),
		("2024-05-01 11:00", datetime(2024, 5, 1, 11, 0, tzinfo=timezone.utc)),
		("2024-05-01T06:00:00.25-05:00", datetime(2024, 5, 1, 11, 0, 0, 250000, tzinfo=timezone.utc)),
		("2024-05-01T14:30:00+0330", datetime(2024, 5, 1, 11, 0, tzinfo=timezone.utc)),
	],
)
def test_sent_at_is_returned_aware_in_utc_and_naive_values_are_read_as_utc(sent_at, expected):
	assert parse_inbound_message(body(sent_at=sent_at))["sent_at"] == expected


@pytest.mark.parametrize(
	"sent_at", ["yesterday", "2024-02-30T10:00:00", "2024-05-01", "2024-05-01T10:00+25:00"]
)
def test_malformed_sent_at_is_rejected_naming_the_field(sent_at):
	error = rejection(body(sent_at=sent_at))
	assert (error.http_status, error.params) == (400, {"field": "sent_at"})


@pytest.mark.parametrize("field", FIELDS)
def test_each_missing_field_is_rejected_by_name(field):
	error = rejection(body_without(field))
	assert (error.http_status, error.params) == (400, {"field": field})
	assert field in str(error)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("wrong_value", [123, ["x"], {"x": 1}, True])
def test_each_wrongly_typed_field_is_rejected_by_name(field, wrong_value):
	error = rejection(body(**{field: wrong_value}))
	assert (error.http_status, error.params["field"]) == (400, field)


@pytest.mark.parametrize("field", ["external_id", "from", "to", "direction"])
def test_blank_required_field_is_rejected(field):
	assert rejection(body(**{field: "   "})).params == {"field": field}


def test_empty_text_is_allowed():
	assert parse_inbound_message(body(text=""))["text"] == ""


def test_unknown_direction_is_rejected_listing_the_allowed_values():
	error = rejection(body(direction="Internal"))
	assert error.params == {"field": "direction", "allowed": "Inbound, Outbound"}


@pytest.mark.parametrize("field, limit", [("external_id", 140), ("text", 10_000)])
def test_overlong_field_is_rejected(field, limit):
	assert parse_inbound_message(body(**{field: "x" * limit}))[field] == "x" * limit
	assert rejection(body(**{field: "x" * (limit + 1)})).params == {"field": field, "max_length": limit}


def test_lone_surrogate_in_text_is_rejected():
	raw = body().replace(b"Salam", b"\\ud800Salam")
	assert rejection(raw).params == {"field": "text"}


def test_oversized_body_is_rejected_with_413():
	raw = body(text="x" * 2000)
	assert parse_inbound_message(raw, max_bytes=len(raw))["text"] == "x" * 2000
	error = rejection(raw, max_bytes=len(raw) - 1)
	assert (error.http_status, error.params) == (413, {"max_bytes": len(raw) - 1})


def test_default_body_limit_is_64_kib():
	error = rejection(body(text="x" * (64 * 1024)))
	assert error.http_status == 413


@pytest.mark.parametrize(
	"raw",
	[b"", b"not json", b"{'single': 'quotes'}", b"\xff\xfe\x00", b"[" * 50_000 + b"]" * 50_000],
)
def test_non_json_body_is_rejected_with_400(raw):
	error = rejection(raw, max_bytes=200_000)
	assert (error.http_status, error.template) == (400, "The request body is not valid JSON")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_json_that_is_not_an_object_is_rejected_with_400(raw):
	assert rejection(raw).template == "The request body must be a JSON object"


json_values = st.recursive(
	st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
	lambda children: (
		st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
	),
	max_leaves=12,
)
field_values = st.one_of(
	json_values,
	st.sampled_from(
		["Inbound", "outbound", "Internal", "", "2024-05-01T10:00:00Z", "9999-12-31T23:59:59-23:59"]
	),
	st.text(alphabet="0123456789-:TZ+. ", max_size=30),
)
message_like = st.dictionaries(st.sampled_from([*FIELDS, "extra"]), field_values, max_size=7)


def assert_parses_or_rejects_with_4xx(raw: bytes):
	try:
		parsed = parse_inbound_message(raw)
	except PayloadError as error:
		assert 400 <= error.http_status < 500
		return
	assert set(parsed) == set(FIELDS)
	assert parsed["direction"] in ("Inbound", "Outbound")
	assert parsed["sent_at"].tzinfo == timezone.utc
	assert all(isinstance(parsed[field], str) for field in FIELDS if field != "sent_at")


@settings(deadline=None)
@given(st.one_of(json_values, message_like, st.builds(lambda extra: {**MESSAGE, **extra}, message_like)))
def test_any_json_body_parses_to_a_valid_message_or_is_rejected_with_4xx(value):
	assert_parses_or_rejects_with_4xx(json.dumps(value).encode())


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_any_byte_body_parses_or_is_rejected_with_4xx(raw):
	assert_parses_or_rejects_with_4xx(raw)
