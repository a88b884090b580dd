from crm_extension.sequences import exits


def after_insert(doc, method=None):
	"""A meeting booked with a party ends its sequences."""
	participants = {
		(row.reference_doctype, row.reference_docname) for row in doc.get("event_participants") or []
	}
	exits.queue_check("Event", doc.name, participants)
