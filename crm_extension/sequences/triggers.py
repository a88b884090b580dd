"""Automatic enrollment: a Lead reaching a grade, a Lead from a source, a playbook step done."""

import frappe

from crm_extension.sequences.enrollment import enroll

LEAD_GRADE, LEAD_SOURCE, PLAYBOOK_STEP = "Lead Grade", "Lead Source", "Playbook Step"


def sequences_triggered(trigger: str, value: str | None) -> list[str]:
	if not value:
		return []
	sequence = frappe.qb.DocType("CRM Sequence")
	row = frappe.qb.DocType("CRM Sequence Trigger")
	return (
		frappe.qb.from_(row)
		.join(sequence)
		.on(sequence.name == row.parent)
		.select(sequence.name)
		.distinct()
		.where(
			(row.parenttype == "CRM Sequence")
			& (row.trigger == trigger)
			& (row.value == value)
			& (sequence.enabled == 1)
		)
		.run(pluck=True)
	)


def on_grades(changes: list[tuple[str, str]]):
	"""(lead, new grade) for the Leads whose grade just changed (lead_scoring.scoring, once per chunk)."""
	by_grade: dict[str, list[str]] = {}
	for lead, grade in changes:
		if grade:
			by_grade.setdefault(grade, []).append(lead)
	for grade, leads in by_grade.items():
		sequences = sequences_triggered(LEAD_GRADE, grade)
		if sequences:
			enroll_leads(sequences, leads)


def on_lead_update(doc):
	if doc.source and (doc.is_new() or doc.has_value_changed("source")):
		if sequences := sequences_triggered(LEAD_SOURCE, doc.source):
			enroll_leads(sequences, [doc.name])


def enroll_leads(sequences: list[str], leads: list[str]):
	rows = frappe.get_all(
		"Lead",
		filters={"name": ("in", leads), "status": ("not in", ("Converted", "Do Not Contact"))},
		fields=["name", "lead_owner", "owner"],
		order_by=None,
	)
	for lead, owner in ((row.name, row.lead_owner or row.owner) for row in rows):
		for sequence in sequences:
			enroll(sequence, "Lead", lead, owner)


def on_playbook_step_done(opportunity: str, *titles: str | None):
	sequences = {
		name for title in titles for name in sequences_triggered(PLAYBOOK_STEP, (title or "").strip())
	}
	if not sequences:
		return
	owners = frappe.db.get_value("Opportunity", opportunity, ["opportunity_owner", "owner"])
	owner = owners[0] or owners[1]
	for sequence in sorted(sequences):
		enroll(sequence, "Opportunity", opportunity, owner)
