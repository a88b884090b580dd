import frappe
from frappe import _
from frappe.model.document import Document

from crm_extension.activity_log.engine.payload import REFERENCE_DOCTYPES
from crm_extension.activity_log.refresh import queue_preferred_channel_refresh
from crm_extension.lead_scoring.jobs import queue_for_reference
from crm_extension.sequences import exits as sequence_exits

WEBHOOK_SOURCE = "Webhook"
# Set by the app (the API, the webhook, a playbook step) when the activity is created, never by a user's edit.
SYSTEM_FIELDS = ("source", "external_id", "performed_by", "inbound_source", "from_address", "to_address")


class CRMActivity(Document):
	def validate(self):
		# The unique key (source, external_id) must ignore activities without an external id: NULLs do not collide.
		self.external_id = (self.external_id or "").strip() or None
		if not self.flags.ignore_permissions:
			self.guard_system_fields()
		if self.is_new() and not self.performed_by and self.source != WEBHOOK_SOURCE:
			self.performed_by = frappe.session.user
		self.validate_reference()
		self.validate_channel()

	def guard_system_fields(self):
		"""A user's write (desk, REST, Data Import) cannot claim a gateway's delivery, edit one, or change what
		the system recorded; the app's own writes set ``ignore_permissions`` after checking permissions."""
		if self.is_new():
			if self.source == WEBHOOK_SOURCE or self.inbound_source:
				frappe.throw(
					_("Only a delivery to the webhook creates an activity from a gateway"),
					frappe.PermissionError,
					title=_("Not Permitted"),
				)
			self.performed_by = frappe.session.user
			return
		before = self.get_doc_before_save()
		if before is None:
			return
		if before.source == WEBHOOK_SOURCE:
			frappe.throw(
				_("This activity arrived through the webhook and cannot be edited"),
				frappe.PermissionError,
				title=_("Not Permitted"),
			)
		changed = [
			field for field in SYSTEM_FIELDS if (self.get(field) or None) != (before.get(field) or None)
		]
		if changed:
			labels = ", ".join(_(self.meta.get_label(field)) for field in changed)
			frappe.throw(_("{0} is set by the system and cannot be changed").format(labels))

	def validate_reference(self):
		if (
			self.unmatched
			and self.source == "Webhook"
			and not (self.reference_doctype or self.reference_name)
		):
			return  # a webhook delivery from an unknown sender, waiting for a user to attach it
		self.unmatched = 0
		if self.reference_doctype not in REFERENCE_DOCTYPES:
			frappe.throw(
				_("Activities can be logged against {0}, not {1}").format(
					", ".join(_(doctype) for doctype in REFERENCE_DOCTYPES), _(self.reference_doctype)
				),
				title=_("Invalid Reference"),
			)
		if not frappe.db.exists(self.reference_doctype, self.reference_name):
			frappe.throw(
				_("{0} {1} does not exist").format(
					_(self.reference_doctype), frappe.bold(self.reference_name)
				),
				frappe.LinkValidationError,
				title=_("Invalid Reference"),
			)

	def validate_channel(self):
		if frappe.get_cached_value("CRM Channel", self.channel, "disabled"):
			frappe.throw(
				_("Channel {0} is disabled").format(frappe.bold(self.channel)), title=_("Invalid Channel")
			)

	def after_insert(self):
		queue_preferred_channel_refresh(self.reference_doctype, self.reference_name)
		queue_for_reference(self.reference_doctype, self.reference_name)
		if self.direction != "Internal":
			# an answer on any channel ends the party's sequences
			sequence_exits.queue_check(
				"CRM Activity", self.name, {(self.reference_doctype, self.reference_name)}
			)

	def on_update(self):
		self.create_follow_up()

	def on_trash(self):
		queue_preferred_channel_refresh(self.reference_doctype, self.reference_name)

	def create_follow_up(self):
		if not self.follow_up_on or self.follow_up_todo:
			return
		todo = frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": self.performed_by or frappe.session.user,
				"date": self.follow_up_on,
				"description": _("Follow up: {0}").format(self.subject or _(self.channel)),
				"reference_type": self.reference_doctype,
				"reference_name": self.reference_name,
				"assigned_by": frappe.session.user,
			}
		).insert(ignore_permissions=True)
		self.db_set("follow_up_todo", todo.name, update_modified=False)


def find_by_external_id(source: str, external_id: str) -> str | None:
	return frappe.db.get_value("CRM Activity", {"source": source, "external_id": external_id})


def insert_once(activity: "CRMActivity") -> str:
	"""Insert the activity, or return the one already stored under its (source, external_id).

	The unique key is the guard for requests that race each other with the same external id.
	"""
	try:
		frappe.db.savepoint("crm_activity_insert_once")
		activity.insert(ignore_permissions=activity.flags.ignore_permissions)
	except (frappe.UniqueValidationError, frappe.DuplicateEntryError):
		if not activity.external_id:
			raise
		frappe.db.rollback(save_point="crm_activity_insert_once")
		frappe.clear_messages()
		return find_by_external_id(activity.source, activity.external_id)
	return activity.name


def on_doctype_update():
	frappe.db.add_index("CRM Activity", ["reference_name", "activity_at"])
	# Covers what lead scoring reads for a chunk of parties, so the nightly rescore reads the index alone.
	frappe.db.add_index(
		"CRM Activity",
		["reference_doctype", "reference_name", "activity_at", "channel", "direction", "outcome"],
		index_name="engagement_index",
	)
	frappe.db.add_unique(
		"CRM Activity", ["source", "external_id"], constraint_name="unique_source_external_id"
	)
