import frappe
from frappe.model.document import Document


class LeadScoreLog(Document):
	pass


def on_doctype_update():
	# also serves lookups by lead alone: the lead field has no index of its own
	frappe.db.add_index("Lead Score Log", ["lead", "scored_on"])
