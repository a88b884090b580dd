from crm_extension.sequences import exits


def after_insert(doc, method=None):
	"""A meeting booked with a party ends its sequences."""
	exits.queue_check("Event", doc.name)
