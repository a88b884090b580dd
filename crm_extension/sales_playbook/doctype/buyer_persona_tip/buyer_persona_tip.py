from frappe.model.document import Document


class BuyerPersonaTip(Document):
	pass
