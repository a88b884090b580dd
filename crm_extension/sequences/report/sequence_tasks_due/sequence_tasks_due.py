"""Due today: the user's open ToDos that sequence steps created (a call, a manual email, a message, a visit),
due today or earlier, oldest first, each with the party it is about, the step type and the task's text. One
query: the user's open ToDos joined to the step runs that created them."""

import re

import frappe
from frappe import _
from frappe.utils import getdate, strip_html_tags

ROW_LIMIT = 500
FAILED = "Failed"
# execute.create_task writes "<p><b>{step} (sequence {name}, step {n})</b></p><p>{text}</p>"
HEADING = re.compile(r"^\s*<p><b>.*?</b></p>", re.DOTALL)


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	return columns(), due_tasks(frappe.session.user, getdate(filters.get("due_by")))


def columns() -> list[dict]:
	return [
		{"fieldname": "party_title", "label": _("Party"), "fieldtype": "Data", "width": 150},
		{"fieldname": "step_type", "label": _("Step"), "fieldtype": "Data", "width": 120},
		{"fieldname": "task", "label": _("Task"), "fieldtype": "Data", "width": 320},
		{"fieldname": "date", "label": _("Due"), "fieldtype": "Date", "width": 110},
		{
			"fieldname": "sequence",
			"label": _("Sequence"),
			"fieldtype": "Link",
			"options": "CRM Sequence",
			"width": 160,
		},
		{"fieldname": "todo", "label": _("ToDo"), "fieldtype": "Link", "options": "ToDo", "width": 110},
		{"fieldname": "reference_doctype", "label": _("Document Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "reference_name", "label": _("Document"), "fieldtype": "Data", "hidden": 1},
	]


def due_tasks(user: str, due_by) -> list[dict]:
	"""The user's open sequence ToDos due on or before due_by, oldest first."""
	rows = frappe.db.sql(
		"""select todo.name as todo, todo.date, todo.description, todo.reference_type as reference_doctype,
			todo.reference_name, run.step_type, run.status as run_status, run.sequence, enrollment.party_title
		from `tabToDo` todo
		join `tabCRM Sequence Step Run` run on run.todo = todo.name
		left join `tabCRM Sequence Enrollment` enrollment on enrollment.name = run.enrollment
		where todo.allocated_to = %(user)s and todo.status = 'Open' and todo.date <= %(due_by)s
		order by todo.date asc, todo.creation asc
		limit %(limit)s""",
		{"user": user, "due_by": due_by, "limit": ROW_LIMIT},
		as_dict=True,
	)
	for row in rows:
		# a failed step's heading says what to do by hand; a task's heading only repeats the Step column
		row["task"] = task_text(row.pop("description"), keep_heading=row.pop("run_status") == FAILED)
		row["step_type"] = _(row.step_type) if row.step_type else ""
		row["party_title"] = row.party_title or row.reference_name
	return rows


def task_text(description: str | None, keep_heading: bool = False) -> str:
	"""The ToDo's text on one line, without the heading a task's step wrote (the Step column says it) unless
	told to keep it; entities stay escaped (the text is HTML, shown as written by the report's table)."""
	text = description or ""
	if keep_heading:
		text = text.replace("</p><p>", ": ", 1)
	else:
		text = HEADING.sub("", text, count=1)
	text = strip_html_tags(text.replace("<br>", " "))
	return " ".join(text.split())
