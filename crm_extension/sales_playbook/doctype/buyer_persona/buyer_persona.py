import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.sales_playbook.store import clear_cache


class BuyerPersona(Document):
	def on_update(self):
		clear_cache()

	def on_trash(self):
		if self.is_standard:
			frappe.throw(_("Standard buyer personas can be edited but not deleted"), title=_("Not Allowed"))
		clear_cache()

	def validate(self):
		seen = set()
		for row in self.techniques:
			if row.closing_technique in seen:
				frappe.throw(
					_("Row {0}: {1} is rated more than once").format(
						row.idx, frappe.bold(row.closing_technique)
					),
					title=_("Invalid Persona"),
				)
			if not 0 <= (row.suitability or 0) <= 100:
				frappe.throw(
					_("Row {0}: suitability must be between 0 and 100%").format(row.idx),
					title=_("Invalid Persona"),
				)
			seen.add(row.closing_technique)
