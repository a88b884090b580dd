from frappe.model.document import Document


class CRMSequenceStep(Document):
	pass
