"""Trains the conversion model on the site's own decided Leads and stores it in Lead Scoring Settings.

Labels come from the host: a Lead is converted when its status is Converted, a Customer was made from it or
one of its Opportunities was won; lost when it is Do Not Contact, Lost Quotation or Unqualified, or all its
Opportunities closed with one lost. The outcome time is the earliest conversion (Customer creation, won
Opportunity) or the last loss; ERPNext keeps no status-change time on the Lead, so its `modified` stands in
for it. Only engagement before that time enters the training row.
"""

from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import now_datetime

from crm_extension.i18n import N_
from crm_extension.lead_scoring.context import (
	MODEL_FIELDS,
	SETTINGS,
	feature_settings,
	lead_columns,
	model_values,
	setting,
)
from crm_extension.lead_scoring.engine.features import OpportunityFact, OutcomeFacts
from crm_extension.lead_scoring.engine.model import TRAINED, ModelSettings, train_model, training_example
from crm_extension.lead_scoring.messages import translated
from crm_extension.lead_scoring.touches import load_touches

CHUNK_SIZE = 2000


def train(progress: bool = False) -> dict:
	"""Train on every decided Lead and store the result; returns a summary for the API and the form.
	``progress``: publish how many Leads were read (the training job; the desk shows it)."""
	settings = frappe.get_single(SETTINGS)
	features = feature_settings()
	examples = []
	total, done = (frappe.db.count("Lead") if progress else 0), 0
	for chunk in _lead_chunks(features):
		done += len(chunk)
		if progress:
			_publish(done * 90 / max(total, 1), _("Read {0} of {1} Leads").format(done, total))
		facts = outcome_facts([lead.name for lead in chunk])
		touches = load_touches([lead.name for lead in chunk if facts[lead.name].status is not None])
		for lead in chunk:
			example = training_example(
				lead.name, lead, touches.get(lead.name, []), facts[lead.name], features
			)
			if example:
				examples.append(example)
	if progress:
		_publish(90, _("Fitting the model on {0} decided Leads").format(len(examples)))
	result = train_model(
		examples, now_datetime(), ModelSettings(min_per_class=int(setting(settings, "min_leads_per_class")))
	)
	summary = _store(result)
	if progress:
		_publish(100, summary["message"] or _("Model trained"))
	return summary


def _publish(percent: float, description: str):
	frappe.publish_progress(percent, title=_("Training the Lead Model"), description=description)


def outcome_facts(leads: list[str]) -> dict[str, OutcomeFacts]:
	customers = dict(
		frappe.db.sql(
			"select lead_name, min(creation) from `tabCustomer` where lead_name in %(leads)s group by lead_name",
			{"leads": tuple(leads)},
		)
	)
	opportunities = defaultdict(list)
	for lead, status, modified in frappe.db.sql(
		"""select party_name, status, modified from `tabOpportunity`
		where opportunity_from = 'Lead' and party_name in %(leads)s""",
		{"leads": tuple(leads)},
	):
		opportunities[lead].append(OpportunityFact(status, modified))
	return {
		lead.name: OutcomeFacts(
			status=lead.status,
			status_changed_at=lead.modified,
			qualification_status=lead.qualification_status,
			customer_created_at=customers.get(lead.name),
			opportunities=tuple(opportunities[lead.name]),
		)
		for lead in frappe.get_all(
			"Lead", {"name": ("in", leads)}, ["name", "status", "modified", "qualification_status"]
		)
	}


def _lead_chunks(features):
	fields = sorted(
		{
			"name",
			"creation",
			*features.categorical_fields,
			*features.presence_fields,
			*features.numeric_fields,
		}
		& set(lead_columns())
	)
	last = ""
	while True:
		chunk = frappe.get_all(
			"Lead", filters={"name": (">", last)}, fields=fields, order_by="name", limit=CHUNK_SIZE
		)
		if not chunk:
			return
		yield chunk
		last = chunk[-1].name


def _store(result) -> dict:
	values = {
		# stored untranslated: the form shows it in each reader's language
		"model_status": N_("Trained") if result.status == TRAINED else N_("Not Enough Data"),
		"converted_leads": result.positives,
		"lost_leads": result.negatives,
	}
	if result.status == TRAINED:
		quality = result.quality
		values.update(
			model_values(result.model),
			holdout_auc=quality.auc,
			model_quality=frappe.as_json(quality.as_dict()),
		)
	else:
		values.update(dict.fromkeys((*MODEL_FIELDS, "holdout_auc", "model_quality")))
	frappe.db.set_single_value(SETTINGS, values)
	frappe.clear_document_cache(SETTINGS, SETTINGS)
	quality = result.quality
	return {
		"status": result.status,
		"version": result.model.version if result.model else None,
		"auc": quality.auc if quality else None,
		"n_train": quality.n_train if quality else 0,
		"n_holdout": quality.n_holdout if quality else 0,
		"positives": result.positives,
		"negatives": result.negatives,
		"message": translated(result.message.template, result.message.params) if result.message else None,
	}
