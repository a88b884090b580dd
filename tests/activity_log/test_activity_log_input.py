from datetime import datetime, timedelta, timezone

import pytest

from crm_extension.activity_log.engine.payload import PayloadError, validate_activity_input

VALID = {
	"channel": "WhatsApp",
	"direction": "Outbound",
	"reference_doctype": "Lead",
	"reference_name": "CRM-LEAD-2024-00001",
}


def validate(**changes):
	return validate_activity_input(**{**VALID, **changes})


def rejection(**changes) -> PayloadError:
	with pytest.raises(PayloadError) as caught:
		validate(**changes)
	assert caught.value.http_status == 400
	return caught.value


def test_minimal_input_returns_every_field_with_empty_optionals_as_none():
	assert validate() == {
		**VALID,
		"activity_at": None,
		"outcome": None,
		"duration": None,
		"subject": None,
		"details": None,
		"external_id": None,
	}


def test_full_input_is_cleaned():
	cleaned = validate(
		channel=" WhatsApp ",
		direction="inbound",
		reference_doctype="sales order",
		outcome="meeting held",
		activity_at="2024-05-01 10:15:00",
		duration="90",
		subject="  Follow-up ",
		details="  keeps its whitespace ",
		external_id="ext-1",
	)

	assert cleaned == {
		"channel": "WhatsApp",
		"direction": "Inbound",
		"reference_doctype": "Sales Order",
		"reference_name": "CRM-LEAD-2024-00001",
		"activity_at": datetime(2024, 5, 1, 10, 15),
		"outcome": "Meeting Held",
		"duration": 90,
		"subject": "Follow-up",
		"details": "  keeps its whitespace ",
		"external_id": "ext-1",
	}


@pytest.mark.parametrize(
	"field, value",
	[("direction", "Sideways"), ("outcome", "Maybe"), ("reference_doctype", "Sales Invoice")],
)
def test_value_outside_the_allowed_set_is_rejected_naming_the_field(field, value):
	error = rejection(**{field: value})
	assert error.params["field"] == field
	assert error.template == "{field} must be one of: {allowed}"


@pytest.mark.parametrize("field", ["channel", "direction", "reference_doctype", "reference_name"])
def test_missing_required_field_is_rejected_naming_the_field(field):
	assert rejection(**{field: ""}).params == {"field": field}


@pytest.mark.parametrize("outcome", [None, ""])
def test_outcome_may_be_empty(outcome):
	assert validate(outcome=outcome)["outcome"] is None


def test_activity_at_keeps_its_time_zone_awareness():
	tehran = timezone(timedelta(hours=3, minutes=30))
	aware = datetime(2024, 5, 1, 10, 0, tzinfo=tehran)

	assert validate(activity_at=aware)["activity_at"] == aware
	assert validate(activity_at="2024-05-01T10:00:00+03:30")["activity_at"] == aware
	assert validate(activity_at="2024-05-01T10:00:00")["activity_at"].tzinfo is None


@pytest.mark.parametrize("activity_at", ["01/05/2024 10:00", "2024-13-01T10:00:00", "now", 1714550400])
def test_malformed_activity_at_is_rejected_naming_the_field(activity_at):
	assert rejection(activity_at=activity_at).params["field"] == "activity_at"


@pytest.mark.parametrize("duration, seconds", [(0, 0), (3600, 3600), (90.0, 90), (" 45 ", 45)])
def test_duration_is_whole_non_negative_seconds(duration, seconds):
	assert validate(duration=duration)["duration"] == seconds


@pytest.mark.parametrize("duration", [-1, 1.5, "1.5", "-3", "ten", True, [60]])
def test_invalid_duration_is_rejected(duration):
	assert rejection(duration=duration).params == {"field": "duration"}


@pytest.mark.parametrize("field, limit", [("subject", 140), ("external_id", 140), ("details", 50_000)])
def test_overlong_text_is_rejected(field, limit):
	assert validate(**{field: "x" * limit})[field] == "x" * limit
	assert rejection(**{field: "x" * (limit + 1)}).params == {"field": field, "max_length": limit}
