import frappe
from frappe import _
from frappe.model.document import Document


class CRMSequenceSettings(Document):
	def validate(self):
		if self.window_start and self.window_end and str(self.window_start) >= str(self.window_end):
			frappe.throw(_("The sending window must end after it starts"), title=_("Invalid Sending Window"))
