"""The custom fields the app adds to host DocTypes, gathered from each capability."""

from crm_extension.activity_log.custom_fields import CUSTOM_FIELDS as ACTIVITY_LOG_FIELDS
from crm_extension.customer_value.custom_fields import CUSTOM_FIELDS as CUSTOMER_VALUE_FIELDS
from crm_extension.lead_scoring.custom_fields import CUSTOM_FIELDS as LEAD_SCORING_FIELDS
from crm_extension.sales_playbook.custom_fields import CUSTOM_FIELDS as SALES_PLAYBOOK_FIELDS

CAPABILITY_FIELDS = (
	ACTIVITY_LOG_FIELDS,
	CUSTOMER_VALUE_FIELDS,
	LEAD_SCORING_FIELDS,
	SALES_PLAYBOOK_FIELDS,
)


def get_custom_fields() -> dict[str, list[dict]]:
	merged: dict[str, list[dict]] = {}
	for capability_fields in CAPABILITY_FIELDS:
		for doctype, fields in capability_fields.items():
			merged.setdefault(doctype, []).extend(fields)
	return merged


def custom_field_names() -> list[tuple[str, str]]:
	return [
		(doctype, field["fieldname"]) for doctype, fields in get_custom_fields().items() for field in fields
	]
