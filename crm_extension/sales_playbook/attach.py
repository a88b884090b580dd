"""Playbooks on Opportunities: which one attaches, its steps as rows, their To Dos, the stage gate.

Rules (``doc_events.opportunity`` calls these on validate and on update):

- **Attaching.** A new Opportunity gets the playbook the engine chooses among the enabled Sales Playbooks
  (``engine.matching``), unless one was given. On a later save it is chosen again when a condition changed
  (type, sales stage, persona, amount, territory, party); a playbook picked by hand replaces the current one.
  Switching playbooks removes the open steps of the old one and keeps its done and skipped steps as history;
  the new playbook adds its steps except those whose key is already done.
- **Steps** are copies of the playbook's steps (title, stage, action, channel, mandatory, technique, role), due
  ``due_after_days`` after the step before, counting from the day they are added. Each step has a To Do for the
  Opportunity owner or, for a step with a role, one for every enabled user with that role (the owner when the
  role has none). To Dos are inserted in one statement, without assignment notifications.
- **Editing a playbook** (``sync_open_opportunities``, queued after the playbook is saved) updates the *open*
  steps of open Opportunities that follow it, adds its new steps and removes the open steps it no longer has.
  Done and skipped steps are never rewritten: they record what was done, under the title it had then.
- **Stage gate.** When the playbook enforces it, the Opportunity cannot move forward past a stage while a
  mandatory step of an earlier stage is open (``engine.progress.check_stage_gate``); the message names them.
- The persona comes from the contact person, else from the Lead the Opportunity is for, unless it is set.
"""

import json

import frappe
from frappe import _
from frappe.utils import add_days, cint, flt, getdate, now_datetime, today
from frappe.utils.nestedset import get_ancestors_of

from crm_extension.sales_playbook.engine.matching import choose_playbook
from crm_extension.sales_playbook.engine.progress import (
	OPEN,
	OpportunityStep,
	check_stage_gate,
	progress_percent,
	schedule_steps,
)
from crm_extension.sales_playbook.engine.state import OpportunityState
from crm_extension.sales_playbook.store import (
	get_candidate,
	get_candidates,
	get_playbook_steps,
	playbook_step,
	sales_stages,
	text,
	user_language,
)

CLOSED_STATUSES = ("Converted", "Lost", "Closed")
CONDITION_FIELDS = (
	"opportunity_type",
	"sales_stage",
	"buyer_persona",
	"opportunity_amount",
	"territory",
	"opportunity_from",
	"party_name",
)
# Fields of a step row copied from the playbook step; an edit of the playbook updates them on open steps.
COPIED_FIELDS = (
	"title",
	"title_fa",
	"sales_stage",
	"action_type",
	"channel",
	"mandatory",
	"closing_technique",
	"role",
	"due_after_days",
)
STEP_ROW = "Opportunity Playbook Step"


# --- on validate ---


def validate_opportunity(doc):
	before = None if doc.is_new() else doc.get_doc_before_save()
	inherit_persona(doc, before)
	enforce_stage_gate(doc, before)
	if before is None or doc.sales_stage != before.sales_stage or not doc.get("stage_since"):
		doc.stage_since = today()
	attach_playbook(doc, before)
	doc.playbook_progress = progress_percent(engine_steps(doc.get("playbook_steps") or []))


def inherit_persona(doc, before):
	if doc.get("buyer_persona"):
		return
	if before is not None and all(
		doc.get(field) == before.get(field) for field in ("contact_person", "opportunity_from", "party_name")
	):
		return
	persona = None
	if doc.contact_person:
		persona = frappe.db.get_value("Contact", doc.contact_person, "buyer_persona")
	if not persona and doc.opportunity_from == "Lead" and doc.party_name:
		persona = frappe.db.get_value("Lead", doc.party_name, "buyer_persona")
	doc.buyer_persona = persona or None


def enforce_stage_gate(doc, before):
	if before is None or doc.sales_stage == before.sales_stage or not doc.get("sales_playbook"):
		return
	candidate = get_candidate(before.get("sales_playbook"))
	if not candidate or not candidate.stage_gate:
		return
	gate = check_stage_gate(
		engine_steps(before.get("playbook_steps") or []),
		before.sales_stage,
		doc.sales_stage,
		sales_stages(),
		user_language(),
	)
	if gate.blocked:
		params = {**gate.params, "stage": _(gate.params["stage"])}
		frappe.throw(_(gate.template).format(**params), title=_("Stage Gate"))


def attach_playbook(doc, before):
	current = before.get("sales_playbook") if before is not None else None
	if before is not None and doc.get("sales_playbook") != current:
		target = doc.get("sales_playbook")
	elif before is None and doc.get("sales_playbook"):
		target = doc.sales_playbook
	elif before is None or _conditions_changed(doc, before):
		chosen = choose_playbook(get_candidates(), opportunity_state(doc), sales_stages())
		target = chosen.name if chosen else None
	else:
		return
	if before is not None and target == current:
		return
	switch_playbook(doc, target)


def _conditions_changed(doc, before) -> bool:
	return any(
		(flt(doc.get(f)) != flt(before.get(f))) if f == "opportunity_amount" else doc.get(f) != before.get(f)
		for f in CONDITION_FIELDS
	)


def opportunity_state(doc) -> OpportunityState:
	"""Only what some enabled playbook's conditions ask for is looked up (tier, territory tree)."""
	candidates = get_candidates()
	return OpportunityState(
		sales_stage=doc.sales_stage or "",
		opportunity_type=doc.opportunity_type or None,
		customer_tier=customer_tier(doc) if any(c.conditions.customer_tier for c in candidates) else None,
		persona=doc.get("buyer_persona") or None,
		amount=flt(doc.opportunity_amount) or None,
		territories=territories(doc.territory) if any(c.conditions.territory for c in candidates) else (),
	)


def customer_tier(doc) -> str | None:
	if doc.opportunity_from != "Customer" or not doc.party_name:
		return None
	return frappe.db.get_value("Customer", doc.party_name, "value_tier")


def territories(territory: str | None) -> tuple[str, ...]:
	if not territory or not frappe.db.exists("Territory", territory):
		return ()
	return (territory, *get_ancestors_of("Territory", territory))


def switch_playbook(doc, playbook: str | None):
	rows = doc.get("playbook_steps") or []
	kept = [row for row in rows if row.status != OPEN]
	doc.flags.crm_removed_steps = [row.name for row in rows if row.status == OPEN and row.name]
	doc.sales_playbook = playbook
	doc.set("playbook_steps", kept)
	if playbook:
		done = {row.step_key for row in kept}
		add_step_rows(doc, [s for s in get_playbook_steps(playbook) if s["step"].key not in done])


def add_step_rows(doc, steps: list[dict]):
	"""Append rows for ``steps`` (from ``store.get_playbook_steps``) with names and To Do names of their own,
	so ``on_update`` can insert the To Dos in one statement."""
	scheduled = schedule_steps([s["step"] for s in steps], getdate(today()))
	new_rows = doc.flags.crm_new_steps = []
	for source, planned in zip(steps, scheduled, strict=True):
		row = doc.append(
			"playbook_steps",
			{**step_values(source), "status": OPEN, "due_date": planned.due_on, "todo": _new_name()},
		)
		# Named now, so the To Dos inserted on update can point at the row; __islocal makes save insert it.
		row.name = _new_name()
		row.set("__islocal", 1)
		new_rows.append(row)


def _new_name() -> str:
	return frappe.generate_hash(length=10)


def step_values(source: dict) -> dict:
	step = source["step"]
	return {
		"playbook_step": source["name"],
		"step_key": step.key,
		"title": step.title.en,
		"title_fa": step.title.fa,
		"sales_stage": step.sales_stage,
		"action_type": step.action_type.title(),
		"channel": step.channel,
		"mandatory": int(step.mandatory),
		"closing_technique": step.closing_technique,
		"role": step.role,
		"due_after_days": step.due_after_days,
	}


def engine_steps(rows) -> list[OpportunityStep]:
	return [engine_step(row) for row in rows]


def engine_step(row) -> OpportunityStep:
	return OpportunityStep(
		step=playbook_step(row),
		status=row.get("status") or OPEN,
		due_on=getdate(row.get("due_date")) if row.get("due_date") else None,
		done_on=getdate(row.get("done_on")) if row.get("done_on") else None,
		done_by=row.get("done_by"),
	)


# --- on update: To Dos ---


def update_todos(doc):
	removed = doc.flags.pop("crm_removed_steps", None)
	added = doc.flags.pop("crm_new_steps", None)
	if removed:
		close_todos(doc.name, removed, status="Cancelled")
	if added:
		create_todos(doc, added)
	if removed or added:
		refresh_assign(doc.doctype, doc.name)


def create_todos(doc, rows):
	"""One statement for every To Do of ``rows``; the first To Do of a row takes the name in ``row.todo``."""
	owner = doc.get("opportunity_owner") or doc.owner
	role_users = users_with_roles({row.role for row in rows if row.role})
	now, user = now_datetime(), frappe.session.user
	values = []
	for row in rows:
		assignees = (role_users.get(row.role) if row.role else None) or [owner]
		for index, allocated_to in enumerate(assignees):
			todo = {
				"name": row.todo if index == 0 else _new_name(),
				"creation": now,
				"modified": now,
				"owner": user,
				"modified_by": user,
				"status": "Open",
				"priority": "Medium",
				"date": row.due_date,
				"allocated_to": allocated_to,
				"description": _todo_description(doc, row),
				"reference_type": "Opportunity",
				"reference_name": doc.name,
				"assigned_by": user,
				"role": row.role,
				"crm_playbook_step": row.name,
			}
			values.append(tuple(todo[field] for field in TODO_FIELDS))
	frappe.db.bulk_insert("ToDo", TODO_FIELDS, values)


TODO_FIELDS = (
	"name",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"status",
	"priority",
	"date",
	"allocated_to",
	"description",
	"reference_type",
	"reference_name",
	"assigned_by",
	"role",
	"crm_playbook_step",
)


def _todo_description(doc, row) -> str:
	title = text(row.title, row.title_fa).in_language(user_language())
	return _("Playbook step: {0} ({1})").format(frappe.utils.escape_html(title), doc.name)


def users_with_roles(roles: set[str]) -> dict[str, list[str]]:
	if not roles:
		return {}
	has_role, user = frappe.qb.DocType("Has Role"), frappe.qb.DocType("User")
	rows = (
		frappe.qb.from_(has_role)
		.join(user)
		.on(user.name == has_role.parent)
		.select(has_role.role, user.name)
		.where(
			(has_role.parenttype == "User")
			& has_role.role.isin(list(roles))
			& (user.enabled == 1)
			& (user.user_type == "System User")
			& user.name.notin(["Administrator", "Guest"])
		)
		.orderby(user.name)
		.run(as_dict=True)
	)
	grouped: dict[str, list[str]] = {}
	for row in rows:
		grouped.setdefault(row.role, []).append(row.name)
	return grouped


def close_todos(opportunity: str, step_rows: list[str], status: str = "Closed"):
	todo = frappe.qb.DocType("ToDo")
	(
		frappe.qb.update(todo)
		.set(todo.status, status)
		.set(todo.modified, now_datetime())
		.where(
			(todo.reference_type == "Opportunity")
			& (todo.reference_name == opportunity)
			& todo.crm_playbook_step.isin(step_rows)
			& (todo.status == "Open")
		)
		.run()
	)


def refresh_assign(doctype: str, name: str):
	"""``_assign`` lists the users with an open To Do on the document, as ToDo.update_in_reference keeps it."""
	users = frappe.get_all(
		"ToDo",
		filters={
			"reference_type": doctype,
			"reference_name": name,
			"status": ("not in", ("Cancelled", "Closed")),
			"allocated_to": ("is", "set"),
		},
		pluck="allocated_to",
		order_by="creation asc",
	)
	frappe.db.set_value(
		doctype, name, "_assign", json.dumps(list(dict.fromkeys(users))), update_modified=False
	)


# --- editing a playbook ---


def queue_sync(playbook: str):
	frappe.enqueue(
		"crm_extension.sales_playbook.attach.sync_open_opportunities",
		queue="long",
		job_id=f"crm_playbook_sync::{playbook}",
		deduplicate=True,
		enqueue_after_commit=True,
		playbook=playbook,
	)


def sync_open_opportunities(playbook: str):
	"""Bring the open steps of the open Opportunities following ``playbook`` in line with it (module docstring)."""
	steps = {source["step"].key: source for source in get_playbook_steps(playbook)}
	opportunities = frappe.get_all(
		"Opportunity",
		filters={"sales_playbook": playbook, "status": ("not in", CLOSED_STATUSES)},
		pluck="name",
	)
	for start in range(0, len(opportunities), 200):
		chunk = opportunities[start : start + 200]
		rows = frappe.get_all(
			STEP_ROW,
			filters={"parenttype": "Opportunity", "parentfield": "playbook_steps", "parent": ("in", chunk)},
			fields=["name", "parent", "idx", "status", "step_key", *COPIED_FIELDS],
			order_by="parent asc, idx asc",
		)
		by_parent: dict[str, list] = {name: [] for name in chunk}
		for row in rows:
			by_parent[row.parent].append(row)
		for name, opportunity_rows in by_parent.items():
			sync_opportunity(name, opportunity_rows, steps)


def sync_opportunity(name: str, rows: list, steps: dict[str, dict]):
	keys = {row.step_key for row in rows}
	removed = [row.name for row in rows if row.status == OPEN and row.step_key not in steps]
	for row in rows:
		if row.status == OPEN and row.step_key in steps:
			values = step_values(steps[row.step_key])
			changed = {f: values[f] for f in COPIED_FIELDS if _differs(row.get(f), values[f])}
			if changed:
				frappe.db.set_value(STEP_ROW, row.name, changed, update_modified=False)
	if removed:
		frappe.db.delete(STEP_ROW, {"name": ("in", removed)})
		close_todos(name, removed, status="Cancelled")
	added = [source for key, source in steps.items() if key not in keys]
	if added:
		doc = frappe.get_doc("Opportunity", name)
		insert_step_rows(doc, added, max((row.idx for row in rows), default=0))
	if removed or added:
		refresh_assign("Opportunity", name)
	store_progress(name)


def insert_step_rows(doc, steps: list[dict], last_idx: int):
	rows = []
	for offset, source in enumerate(steps, start=1):
		row = frappe.get_doc(
			{
				"doctype": STEP_ROW,
				"parent": doc.name,
				"parenttype": "Opportunity",
				"parentfield": "playbook_steps",
				"idx": last_idx + offset,
				**step_values(source),
				"status": OPEN,
				"due_date": add_days(today(), cint(source["step"].due_after_days)),
				"todo": _new_name(),
			}
		)
		row.db_insert()
		rows.append(row)
	create_todos(doc, rows)


def _differs(stored, value) -> bool:
	if isinstance(value, int) and not isinstance(value, bool):
		return cint(stored) != value
	return (stored or None) != (value or None)


def store_progress(name: str, update_modified: bool = False):
	statuses = frappe.get_all(STEP_ROW, filters={"parenttype": "Opportunity", "parent": name}, pluck="status")
	progress = round(100 * sum(status != OPEN for status in statuses) / len(statuses)) if statuses else 0
	frappe.db.set_value("Opportunity", name, "playbook_progress", progress, update_modified=update_modified)
