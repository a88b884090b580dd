from frappe.model.document import Document


class BuyerPersonaTechnique(Document):
	pass
