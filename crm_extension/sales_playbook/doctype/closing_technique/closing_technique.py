import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.sales_playbook.store import clear_cache


class ClosingTechnique(Document):
	def on_update(self):
		clear_cache()

	def on_trash(self):
		if self.is_standard:
			frappe.throw(
				_("Standard closing techniques can be edited but not deleted"), title=_("Not Allowed")
			)
		clear_cache()
