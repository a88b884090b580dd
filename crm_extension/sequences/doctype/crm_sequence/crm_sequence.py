import frappe
from frappe import _
from frappe.model.document import Document

EMAIL_STEPS = ("Automatic Email", "Manual Email")


class CRMSequence(Document):
	def validate(self):
		if not self.steps:
			frappe.throw(_("A sequence needs at least one step"), title=_("Missing Steps"))
		for step in self.steps:
			self.validate_step(step)
		for trigger in self.triggers or []:
			trigger.value = (trigger.value or "").strip()

	def validate_step(self, step):
		if step.step_type == "Automatic Email" and not step.email_template:
			frappe.throw(
				_("Row {0}: an automatic email needs an Email Template").format(step.idx),
				title=_("Missing Email Template"),
			)
		if step.variant_b_template and step.step_type != "Automatic Email":
			step.variant_b_template = None
		if step.variant_b_template and step.variant_b_template == step.email_template:
			frappe.throw(
				_("Row {0}: variant B must use a different Email Template than variant A").format(step.idx),
				title=_("Invalid A/B Test"),
			)
		if step.channel and frappe.db.get_value("CRM Channel", step.channel, "channel_type") != "Messaging":
			frappe.throw(
				_("Row {0}: {1} is not a messaging channel").format(step.idx, frappe.bold(step.channel)),
				title=_("Invalid Channel"),
			)
		if step.step_type == "Wait" and step.on_preferred_channel:
			step.on_preferred_channel = 0
