from crm_extension.sequences import exits


def after_insert(doc, method=None):
	"""An unsubscribe (the host's, from any email's footer) ends the party's sequences."""
	exits.on_email_unsubscribe(doc)
