from frappe.model.document import Document


class CRMSequenceSender(Document):
	pass
