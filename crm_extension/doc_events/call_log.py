from crm_extension.activity_log.refresh import queue_preferred_channel_refresh
from crm_extension.lead_scoring.jobs import queue_for_reference
from crm_extension.sequences import exits


def after_insert(doc, method=None):
	"""A new call changes which channel the party answers on, and the Lead's score."""
	for link in doc.get("links") or []:
		queue_preferred_channel_refresh(link.link_doctype, link.link_name)
		queue_for_reference(link.link_doctype, link.link_name)
	if doc.status == "Completed":
		# an answered call ends the party's sequences
		links = {(link.link_doctype, link.link_name) for link in doc.get("links") or []}
		exits.queue_check("Call Log", doc.name, links)
