import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.customer_value.engine.scoring import ValueSettings

MAX_HORIZON_MONTHS = 120


class CustomerValueSettings(Document):
	def validate(self):
		if (self.window_days or 0) < 1:
			frappe.throw(_("The RFM window must be at least one day"), title=_("Invalid Settings"))
		if not 1 <= (self.horizon_months or 0) <= MAX_HORIZON_MONTHS:
			frappe.throw(
				_("The CLV horizon must be between 1 and {0} months").format(MAX_HORIZON_MONTHS),
				title=_("Invalid Settings"),
			)
		if not 0 <= (self.annual_discount_rate or 0) <= 100:
			frappe.throw(
				_("The annual discount rate must be between 0% and 100%"), title=_("Invalid Settings")
			)


def get_settings():
	return frappe.get_cached_doc("Customer Value Settings")


def value_settings(settings) -> ValueSettings:
	return ValueSettings(
		horizon_months=settings.horizon_months or 12,
		annual_discount_rate=(settings.annual_discount_rate or 0) / 100,
		rfm_window_days=settings.window_days or 365,
	)


def settings_company(settings, company: str | None = None) -> str:
	company = company or settings.company or frappe.defaults.get_global_default("company")
	if not company or not frappe.db.exists("Company", company):
		frappe.throw(_("Set the company in Customer Value Settings"), title=_("No Company"))
	return company
