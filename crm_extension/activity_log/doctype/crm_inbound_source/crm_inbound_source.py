import frappe
from frappe import _
from frappe.model.document import Document


class CRMInboundSource(Document):
	def validate(self):
		if self.phone_region:
			self.phone_region = self.phone_region.strip().upper()
			if len(self.phone_region) != 2 or not self.phone_region.isalpha():
				frappe.throw(
					_("Phone Region must be a two-letter country code such as IR"), title=_("Invalid Value")
				)
		if self.max_age_seconds is not None and self.max_age_seconds <= 0:
			frappe.throw(_("Max Age must be greater than zero"), title=_("Invalid Value"))
