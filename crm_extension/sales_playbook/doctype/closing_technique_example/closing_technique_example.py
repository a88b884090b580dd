from frappe.model.document import Document


class ClosingTechniqueExample(Document):
	pass
