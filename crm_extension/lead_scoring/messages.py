"""Engine messages (N_ templates with raw parameters) in the user's language."""

from collections.abc import Mapping
from typing import Any

import frappe
from frappe import _


def translated(template: str, params: Mapping[str, Any] | None = None) -> str:
	return _(template).format(**{key: _display(key, value) for key, value in (params or {}).items()})


def _display(key: str, value: Any) -> Any:
	if key == "field" and isinstance(value, str):
		field = frappe.get_meta("Lead").get_field(value)
		return _(field.label) if field and field.label else value
	if isinstance(value, str):
		return _(value)
	return value
