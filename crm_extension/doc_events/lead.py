from crm_extension.lead_scoring.jobs import queue_lead_score


def on_update(doc, method=None):
	"""A saved Lead may fit the rules differently: rescore it in a worker, so saving stays fast."""
	queue_lead_score([doc.name])
