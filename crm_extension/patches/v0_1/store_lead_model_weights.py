import frappe

from crm_extension.lead_scoring.context import SETTINGS, stored_model, stored_weights, weights_text


def execute():
	"""Scoring now reads the conversion model's weights, stored beside it when it is trained. A model trained
	before gets its weights here, so that scoring jobs stop loading it (and scikit-learn) each time. A model
	that cannot be read is left as it is: rules alone grade until the next training. Run again, nothing
	changes: weights of the current model are kept."""
	settings = frappe.get_single(SETTINGS)
	if stored_weights(settings) or not (model := stored_model(settings)):
		return
	frappe.db.set_single_value(SETTINGS, "model_weights", weights_text(model))
	frappe.clear_document_cache(SETTINGS, SETTINGS)
