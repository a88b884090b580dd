from datetime import datetime
from zoneinfo import ZoneInfo

from frappe.utils import get_system_timezone


def to_system_time(value: datetime | None) -> datetime | None:
	"""Frappe stores naive datetimes in the system time zone; aware input is converted first."""
	if value is None or value.tzinfo is None:
		return value
	return value.astimezone(ZoneInfo(get_system_timezone())).replace(tzinfo=None)
