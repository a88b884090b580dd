from crm_extension.lead_scoring.jobs import queue_lead_score
from crm_extension.sequences import exits, triggers


def on_update(doc, method=None):
	"""A saved Lead may fit the rules differently: rescore it in a worker, so saving stays fast. A Lead
	converted, marked Do Not Contact or unsubscribed leaves its sequences; a Lead source may enroll it."""
	queue_lead_score([doc.name])
	if not doc.flags.in_insert and (doc.has_value_changed("status") or doc.has_value_changed("unsubscribed")):
		exits.queue_check("Lead", doc.name, {("Lead", doc.name)})
	triggers.on_lead_update(doc)
