import frappe
from frappe import _
from frappe.model.document import Document


class CRMChannel(Document):
	def on_trash(self):
		if self.is_standard:
			frappe.throw(_("Standard channels can be disabled but not deleted"), title=_("Not Allowed"))
