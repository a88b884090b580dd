from crm_extension.activity_log.refresh import queue_preferred_channel_refresh
from crm_extension.lead_scoring.jobs import queue_for_reference
from crm_extension.sequences import exits


def after_insert(doc, method=None):
	"""A new email or message changes which channel the party answers on, and the Lead's score."""
	if doc.communication_type != "Communication":
		return
	references = {(doc.reference_doctype, doc.reference_name)}
	references.update((link.link_doctype, link.link_name) for link in doc.get("timeline_links") or [])
	for doctype, name in references:
		if doctype and name:
			queue_preferred_channel_refresh(doctype, name)
			queue_for_reference(doctype, name)
	if doc.sent_or_received == "Received":
		exits.queue_check("Communication", doc.name, references)  # a reply ends the party's sequences
