import frappe
from frappe.model.document import Document


class CustomerValueSnapshot(Document):
	pass


def on_doctype_update():
	frappe.db.add_index("Customer Value Snapshot", ["customer", "as_of"])
	# A run's date (tier movement between two dates; whether a recompute replaces a date's snapshots).
	frappe.db.add_index("Customer Value Snapshot", ["as_of", "company"])
