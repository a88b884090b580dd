"""The demo company and its calendar: ERPNext's setup (the setup wizard's own function on a new site, a
Company document on a site that has one already), fiscal years for the whole history, a Holiday List."""

from datetime import date, timedelta

import frappe
from frappe.utils import getdate

from crm_extension.demo.profiles import Profile, profile_for


def complete_setup(lang: str = "en"):
	"""Run by scripts/demo.sh on a new site: ERPNext's setup wizard for the demo company. The wizard runs in
	English so the records it names (Sales Stages, Lead Sources, ...) have the names the app's playbook
	and the demo use; the desk language is set afterwards."""
	profile = profile_for(lang)
	if not frappe.db.get_single_value("System Settings", "setup_complete"):
		from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

		start = fiscal_year_start(profile, getdate())
		setup_complete(
			{
				"language": "English",
				"country": profile.country,
				"timezone": profile.timezone,
				"currency": profile.currency,
				"company_name": profile.company,
				"company_abbr": profile.abbr,
				"chart_of_accounts": "Standard",
				"fy_start_date": str(start),
				"fy_end_date": str(fiscal_year_end(start)),
				"full_name": "Administrator",
			}
		)
	frappe.db.set_single_value("System Settings", "language", lang)
	frappe.db.commit()  # the demo's command line step, run once through bench execute


def ensure_company(profile: Profile) -> str:
	if not frappe.db.exists("Company", profile.company):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": profile.company,
				"abbr": profile.abbr,
				"default_currency": profile.currency,
				"country": profile.country,
				"chart_of_accounts": "Standard",
			}
		).insert(ignore_permissions=True)
	return profile.company


def ensure_fiscal_years(profile: Profile, first_day: date, last_day: date):
	"""A Fiscal Year for every day of the history (they stay for later runs)."""
	from erpnext.accounts.utils import FiscalYearError, get_fiscal_year

	start = fiscal_year_start(profile, first_day)
	while start <= last_day:
		try:
			get_fiscal_year(start, company=profile.company)
		except FiscalYearError:
			end = fiscal_year_end(start)
			name = str(start.year) if start.month == 1 else f"{start.year}-{end.year}"
			frappe.get_doc(
				{"doctype": "Fiscal Year", "year": name, "year_start_date": start, "year_end_date": end}
			).insert(ignore_permissions=True)
			frappe.cache.delete_value("fiscal_years")
		start = fiscal_year_end(start) + timedelta(days=1)


def fiscal_year_start(profile: Profile, day: date) -> date:
	month, day_of_month = profile.fiscal_year_start
	start = date(day.year, month, day_of_month)
	return start if start <= day else date(day.year - 1, month, day_of_month)


def fiscal_year_end(start: date) -> date:
	return date(start.year + 1, start.month, start.day) - timedelta(days=1)


def ensure_holiday_list(profile: Profile, first_day: date, last_day: date) -> str:
	"""The company's Holiday List: its weekly days off and public holidays over the history and a year on."""
	name = f"{profile.company} {first_day.year}-{last_day.year + 1}"
	if not frappe.db.exists("Holiday List", name):
		holidays = frappe.get_doc(
			{
				"doctype": "Holiday List",
				"holiday_list_name": name,
				"from_date": first_day,
				"to_date": date(last_day.year + 1, 12, 31),
			}
		)
		for weekday in profile.weekly_off:
			holidays.weekly_off = weekday
			holidays.get_weekly_off_dates()
		taken = {getdate(row.holiday_date) for row in holidays.holidays}
		for year in range(first_day.year, last_day.year + 2):
			for month, day_of_month, description in profile.holidays:
				day = date(year, month, day_of_month)
				if first_day <= day <= holidays.to_date and day not in taken:
					holidays.append("holidays", {"holiday_date": day, "description": description})
		holidays.insert(ignore_permissions=True)
	frappe.db.set_value("Company", profile.company, "default_holiday_list", name)
	return name
