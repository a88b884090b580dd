from frappe.model.document import Document


class CRMSequenceTrigger(Document):
	pass
