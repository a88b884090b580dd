"""How each sequence and each of its steps performs (engine: ``sequences.engine.performance``).

Enrollments count when they were enrolled in the date range (a cohort), with all their step runs. The rows
are read set-based: the sequences the user may read, their steps, their enrollments, and the step runs of
those enrollments joined to the host's Communication for its open tracking (``read_by_recipient``).
"""

import frappe
from frappe import _
from frappe.utils import add_days, flt, getdate

from crm_extension.sequences.engine.performance import (
	MAIN_EXIT_REASONS,
	NO_DATA,
	SIGNIFICANT,
	reply_rate_chart,
	summarise,
)


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	performances = sequence_performance(
		readable_sequences(filters.get("sequence")), filters.get("from_date"), filters.get("to_date")
	)
	return get_columns(), get_rows(performances), None, get_chart(performances, not filters.get("sequence"))


def readable_sequences(sequence: str | None = None) -> list[str]:
	"""The sequences the user may read (``frappe.get_list`` applies their permissions), or just ``sequence``."""
	filters = {"name": sequence} if sequence else {}
	return frappe.get_list("CRM Sequence", filters=filters, pluck="name", order_by="title asc", limit=0)


def sequence_performance(sequences: list[str], from_date=None, to_date=None) -> list[dict]:
	"""Per sequence, its counts and its steps' (see the engine), A/B results with a message to show."""
	if not sequences:
		return []
	performances = summarise(load_steps(sequences), *load_enrollments_and_runs(sequences, from_date, to_date))
	for performance in performances:
		for step in performance["steps"]:
			if step["ab"]:
				step["ab"]["message"] = ab_message(step["ab"])
	return performances


def load_steps(sequences: list[str]) -> list[dict]:
	return frappe.get_all(
		"CRM Sequence Step",
		filters={"parenttype": "CRM Sequence", "parent": ("in", sequences)},
		fields=["parent as sequence", "idx", "step_type", "variant_b_template"],
		order_by="parent asc, idx asc",
	)


def load_enrollments_and_runs(sequences: list[str], from_date, to_date) -> tuple[list, list]:
	enrollment = frappe.qb.DocType("CRM Sequence Enrollment")
	run = frappe.qb.DocType("CRM Sequence Step Run")
	communication = frappe.qb.DocType("Communication")
	cohort = enrollment.sequence.isin(sequences)
	if from_date:
		cohort &= enrollment.enrolled_on >= getdate(from_date)
	if to_date:
		cohort &= enrollment.enrolled_on < add_days(getdate(to_date), 1)
	enrollments = (
		frappe.qb.from_(enrollment)
		.select(enrollment.name, enrollment.sequence, enrollment.status, enrollment.exit_reason)
		.where(cohort)
		.run(as_dict=True)
	)
	runs = (
		frappe.qb.from_(enrollment)
		.join(run)
		.on(run.enrollment == enrollment.name)
		.left_join(communication)
		.on(communication.name == run.communication)
		.select(
			run.enrollment,
			enrollment.sequence,
			run.step_idx,
			run.step_type,
			run.channel_type,
			run.variant,
			run.communication,
			communication.read_by_recipient.as_("opened"),
			run.clicked_on.as_("clicked"),
			run.status,
		)
		.where(cohort)
		.run(as_dict=True)
	)
	return enrollments, runs


def ab_message(ab: dict) -> str:
	if ab["verdict"] == NO_DATA:
		return _("Not enough data yet: both variants must run before they can be compared")
	p_value = f"{ab['p_value']:.3f}"
	if ab["verdict"] == SIGNIFICANT:
		return _("Variant {0} gets more replies (significant, p = {1})").format(ab["leader"], p_value)
	return _("The difference is not significant yet (p = {0})").format(p_value)


def exit_labels() -> dict[str, str]:
	return {
		"Replied": _("Exited: Replied"),
		"Meeting": _("Exited: Meeting"),
		"Bounced": _("Exited: Bounced"),
		"Unsubscribed": _("Exited: Unsubscribed"),
		"Unenrolled": _("Exited: Unenrolled"),
	}


def get_columns() -> list[dict]:
	def column(fieldname, label, fieldtype="Int", width=100, **more):
		return {"fieldname": fieldname, "label": label, "fieldtype": fieldtype, "width": width, **more}

	exits = exit_labels()
	# what a step did first (a step row has no enrollment counts), then how the sequence's enrollments ended
	return [
		column("label", _("Sequence / Step"), "Data", 220),
		column("enrolled", _("Enrolled")),
		column("executed", _("Steps Executed"), width=135),
		column("emails_sent", _("Emails Sent"), width=115),
		column("opened", _("Opened")),
		column("clicked", _("Clicked")),
		column("replied", _("Replied")),
		column("meetings", _("Meetings")),
		column("reply_rate", _("Reply Rate"), "Percent", 100),
		column("interval", _("95% Interval"), "Data", 130),
		column("significance", _("A/B Result"), "Data", 320),
		column("active", _("Active")),
		column("finished", _("Finished")),
		*(column(f"exit_{reason.lower()}", exits[reason], width=130) for reason in MAIN_EXIT_REASONS),
		column("exit_other", _("Exited: Other"), width=120),
		column("failed", _("Failed")),
	]


def get_rows(performances: list[dict]) -> list[dict]:
	rows = []
	for performance in performances:
		sequence = performance["sequence"]
		rows.append(sequence_row(performance))
		for step in performance["steps"]:
			rows.append(step_row(sequence, step))
			for variant, counts in (step["variants"] if step["ab"] else {}).items():
				rows.append(variant_row(sequence, step, variant, counts))
		for channel in performance["channels"]:
			rows.append(
				{
					**counts_of(channel),
					"label": _("Channel: {0}").format(_(channel["channel_type"])),
					"sequence": sequence,
					"indent": 1,
				}
			)
	return rows


def sequence_row(performance: dict) -> dict:
	row = {
		**counts_of(performance),
		"label": performance["sequence"],
		"sequence": performance["sequence"],
		"indent": 0,
		"enrolled": performance["enrolled"],
		"active": performance["active"],
		"finished": performance["finished"],
		"exit_other": performance["exited_other"],
	}
	for reason, count in performance["exited"].items():
		row[f"exit_{reason.lower()}"] = count
	return row


def step_row(sequence: str, step: dict) -> dict:
	return {
		**counts_of(step),
		"label": _("Step {0}: {1}").format(step["idx"], _(step["step_type"])),
		"sequence": sequence,
		"indent": 1,
		"significance": step["ab"]["message"] if step["ab"] else None,
	}


def variant_row(sequence: str, step: dict, variant: str, counts: dict) -> dict:
	interval = step["ab"]["ci_a" if variant == "A" else "ci_b"]
	return {
		**counts_of(counts),
		"label": _("Variant {0}").format(variant),
		"sequence": sequence,
		"indent": 2,
		"interval": f"{100 * interval[0]:.1f}% – {100 * interval[1]:.1f}%" if interval else None,
	}


def counts_of(counts: dict) -> dict:
	rate = counts["reply_rate"]
	return {
		"executed": counts["executed"],
		"emails_sent": counts["emails_sent"],
		"opened": counts["opened"],
		"clicked": counts["clicked"],
		"replied": counts["replied"],
		"meetings": counts["meetings"],
		"failed": counts["failed"],
		"reply_rate": flt(100 * rate, 1) if rate is not None else None,
	}


def get_chart(performances: list[dict], with_sequence: bool) -> dict | None:
	chart = reply_rate_chart(performances, with_sequence)
	if not chart["labels"]:
		return None
	return {
		"data": {
			"labels": chart["labels"],
			"datasets": [{"name": _("Reply Rate (%)"), "values": chart["values"]}],
		},
		"type": "bar",
		"colors": ["#5e64ff"],
		"fieldtype": "Percent",
	}
