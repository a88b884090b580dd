import frappe
from frappe.model.document import Document


class CRMSequenceStepRun(Document):
	"""What one step of one enrollment did: written once by the scheduler, read by reports and the timeline."""


def on_doctype_update():
	# The database guarantees a step executes once, whichever worker gets there first.
	frappe.db.add_unique("CRM Sequence Step Run", ["enrollment", "step_idx"], "unique_enrollment_step")
	frappe.db.add_index("CRM Sequence Step Run", ["sender", "send_at"], "sender_send_at")
	frappe.db.add_index("CRM Sequence Step Run", ["communication"], "communication")
	frappe.db.add_index("CRM Sequence Step Run", ["todo"], "todo")  # Sequence Tasks Due joins on it
	# lead scoring reads the clicks about a chunk of Leads and their Contacts and Opportunities
	frappe.db.add_index("CRM Sequence Step Run", ["reference_doctype", "reference_name"], "reference")
