"""When a step may run: the company's Holiday List and the sending window of CRM Sequence Settings."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import frappe
from frappe.utils import get_system_timezone, get_time, getdate

from crm_extension.sequences.engine.schedule import due_at, next_slot, window_close
from crm_extension.sequences.engine.throttle import Limits

HOLIDAY_HORIZON_DAYS = 400


@dataclass(frozen=True)
class SendingCalendar:
	holidays: frozenset[date]
	window_start: time
	window_end: time
	system_tz: str

	def due(self, after: datetime, delay_days: int, tz: str | None) -> datetime:
		return due_at(
			after,
			int(delay_days or 0),
			self.holidays,
			self.window_start,
			self.window_end,
			tz or self.system_tz,
			self.system_tz,
		)

	def next_slot(self, earliest: datetime, tz: str | None) -> datetime:
		return next_slot(
			earliest, self.holidays, self.window_start, self.window_end, tz or self.system_tz, self.system_tz
		)

	def window_close(self, moment: datetime, tz: str | None) -> datetime | None:
		return window_close(
			moment, self.holidays, self.window_start, self.window_end, tz or self.system_tz, self.system_tz
		)


def settings():
	return frappe.get_cached_doc("CRM Sequence Settings")


def sending_limits() -> Limits:
	values = settings()
	gap = values.min_gap_seconds
	return Limits(per_24h=int(values.emails_per_day or 0), min_gap_seconds=30 if gap is None else int(gap))


def sending_calendar(company: str | None = None) -> SendingCalendar:
	values = settings()
	company = company or values.company or frappe.defaults.get_user_default("Company")
	return SendingCalendar(
		holidays=frozenset(company_holidays(company)),
		window_start=get_time(values.window_start or "09:00:00"),
		window_end=get_time(values.window_end or "17:00:00"),
		system_tz=get_system_timezone(),
	)


def company_holidays(company: str | None) -> list[date]:
	"""Holidays (weekly offs included, as ERPNext lists them) of the company's default Holiday List."""
	holiday_list = company and frappe.get_cached_value("Company", company, "default_holiday_list")
	if not holiday_list:
		return []
	today = getdate()
	return [
		getdate(day)
		for day in frappe.get_all(
			"Holiday",
			filters={
				"parent": holiday_list,
				"parenttype": "Holiday List",
				"holiday_date": (
					"between",
					[today - timedelta(days=7), today + timedelta(HOLIDAY_HORIZON_DAYS)],
				),
			},
			pluck="holiday_date",
			order_by=None,
		)
	]
