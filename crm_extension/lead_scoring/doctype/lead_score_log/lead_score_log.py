import frappe
from frappe.model.document import Document


class LeadScoreLog(Document):
	pass


def on_doctype_update():
	frappe.db.add_index("Lead Score Log", ["lead", "scored_on"])
