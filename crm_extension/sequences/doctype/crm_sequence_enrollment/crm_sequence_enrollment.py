import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.sequences.engine.ab import choose_variant
from crm_extension.sequences.parties import ENROLLABLE_DOCTYPES


class CRMSequenceEnrollment(Document):
	def validate(self):
		if self.reference_doctype not in ENROLLABLE_DOCTYPES:
			frappe.throw(
				_("Only {0} can be enrolled in a sequence").format(
					", ".join(_(doctype) for doctype in ENROLLABLE_DOCTYPES)
				),
				title=_("Invalid Enrollment"),
			)
		if self.is_new() and not self.variant:
			# decided once, from the name, so an A/B split is even and never changes for an enrollment
			self.variant = choose_variant(self.name)


def on_doctype_update():
	# the scheduler's one query: active enrollments whose next step is due
	frappe.db.add_index("CRM Sequence Enrollment", ["status", "next_step_at"], "status_next_step_at")
	frappe.db.add_index("CRM Sequence Enrollment", ["reference_doctype", "reference_name"], "reference")
