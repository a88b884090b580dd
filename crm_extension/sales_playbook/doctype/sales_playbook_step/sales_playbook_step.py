from frappe.model.document import Document


class SalesPlaybookStep(Document):
	pass
