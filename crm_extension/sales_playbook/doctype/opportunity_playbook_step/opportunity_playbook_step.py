from frappe.model.document import Document


class OpportunityPlaybookStep(Document):
	pass
