from crm_extension.sequences import exits


def after_insert(doc, method=None):
	"""An unsubscribe (the host's, from any email's footer) ends the party's sequences."""
	exits.queue_check("Email Unsubscribe", doc.name)
