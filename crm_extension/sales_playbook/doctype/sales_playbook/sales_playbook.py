import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

from crm_extension.sales_playbook.attach import queue_sync
from crm_extension.sales_playbook.engine.errors import KnowledgeError
from crm_extension.sales_playbook.engine.knowledge import check_step, parse_conditions
from crm_extension.sales_playbook.store import clear_cache, playbook_step, sales_stages


class SalesPlaybook(Document):
	def validate(self):
		self.set_step_keys()
		try:
			self.check_conditions()
			self.check_steps()
		except KnowledgeError as error:
			frappe.throw(_(error.template).format(**error.params), title=_("Invalid Playbook"))

	def set_step_keys(self):
		seen = set()
		for row in self.steps:
			key = (row.step_key or "").strip() or frappe.scrub(row.title or "")[:60] or str(row.idx)
			if key in seen and not (row.step_key or "").strip():
				key = f"{key}-{row.idx}"
			if key in seen:
				frappe.throw(
					_("Step {0}: the step key {1} is used more than once").format(row.idx, frappe.bold(key)),
					title=_("Invalid Playbook"),
				)
			seen.add(key)
			row.step_key = key

	def check_conditions(self):
		record = {
			field: self.get(field) for field in ("opportunity_type", "from_stage", "to_stage", "territory")
		}
		record.update(
			customer_tier=self.customer_tier,
			persona=self.buyer_persona,
			min_amount=flt(self.min_amount) or None,
			max_amount=flt(self.max_amount) or None,
		)
		parse_conditions(record, _("Conditions"), sales_stages())

	def check_steps(self):
		if not self.steps:
			frappe.throw(_("A playbook needs at least one step"), title=_("Invalid Playbook"))
		templates = {row.email_template for row in self.steps if row.email_template}
		references = {
			"stages": sales_stages(),
			"technique_names": set(frappe.get_all("Closing Technique", pluck="name")),
			"email_templates": set(
				frappe.get_all("Email Template", {"name": ("in", list(templates))}, pluck="name")
			)
			if templates
			else set(),
			"channels": set(frappe.get_all("CRM Channel", pluck="name")),
		}
		for row in self.steps:
			where = _("Step {0} ({1})").format(row.idx, row.title)
			check_step(playbook_step(row), where, **references)

	def on_update(self):
		clear_cache()
		if not self.flags.in_insert:
			queue_sync(self.name)

	def after_rename(self, old: str, new: str, merge: bool = False):
		clear_cache()

	def on_trash(self):
		if self.is_standard:
			frappe.throw(_("Standard playbooks can be disabled but not deleted"), title=_("Not Allowed"))
		clear_cache()
