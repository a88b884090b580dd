from crm_extension.activity_log.refresh import queue_preferred_channel_refresh


def after_insert(doc, method=None):
	"""A new call changes which channel the party answers on."""
	for link in doc.get("links") or []:
		queue_preferred_channel_refresh(link.link_doctype, link.link_name)
