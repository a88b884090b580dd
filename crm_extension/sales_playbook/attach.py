"""Playbooks on Opportunities: which one attaches, its steps as rows, their To Dos, the stage gate.

Rules (``doc_events.opportunity`` calls these on validate and on update):

- **Attaching.** A new Opportunity gets the playbook the engine chooses among the enabled Sales Playbooks
  (``engine.matching``), unless one was given. On a later save it is chosen again when a condition changed
  (type, sales stage, persona, amount, territory, party); a playbook picked by hand replaces the current one.
  Switching playbooks removes the open steps of the old one and keeps its done and skipped steps as history;
  the new playbook adds its steps except those whose key is already done. When the old playbook enforces the
  stage gate, a switch is held while its mandatory steps of the stage the Opportunity was in (or earlier ones)
  are open (``engine.progress.check_playbook_switch``): a switch made by hand, or clearing the playbook, is
  refused and names them; a switch the engine would make because a condition changed waits (the playbook
  stays, the user is told why).
- **Steps** are copies of the playbook's steps (title, stage, action, channel, mandatory, technique, role), due
  ``due_after_days`` after the step before, counting from the day they are added. Each step has a To Do for the
  Opportunity owner or, for a step with a role, one for every enabled user with that role (the owner when the
  role has none). On update the new rows, then their To Dos, are inserted in one statement each (To Dos without
  assignment notifications).
- **Editing a playbook** (``sync_open_opportunities``, queued after the playbook is saved) updates the *open*
  steps of open Opportunities that follow it, adds its new steps and removes the open steps it no longer has.
  Done and skipped steps are never rewritten: they record what was done, under the title it had then.
- **Stage gate.** When the playbook enforces it, the Opportunity cannot move forward past a stage while a
  mandatory step of an earlier stage is open (``engine.progress.check_stage_gate``); the message names them.
  The gate is checked with the playbook and steps in force before the save, so clearing or switching the
  playbook in the same save as the move does not open it.
- The persona comes from the contact person, else from the Lead the Opportunity is for, unless it is set.
"""

import json

import frappe
from frappe import _
from frappe.utils import add_days, cint, flt, getdate, now_datetime, today

from crm_extension.bulk_sql import insert_rows
from crm_extension.sales_playbook.engine.matching import choose_playbook
from crm_extension.sales_playbook.engine.progress import (
	OPEN,
	OpportunityStep,
	StageGate,
	check_playbook_switch,
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
	rows = [*(doc.get("playbook_steps") or []), *(doc.flags.get("crm_new_steps") or [])]
	doc.playbook_progress = progress_percent(engine_steps(rows))


def inherit_persona(doc, before):
	if doc.get("buyer_persona"):
		return
	if before is not None and all(
		doc.get(field) == before.get(field) for field in ("contact_person", "opportunity_from", "party_name")
	):
		return
	persona = None
	if doc.contact_person:
		persona = _persona_of("Contact", doc.contact_person)
	if not persona and doc.opportunity_from == "Lead" and doc.party_name:
		persona = _persona_of("Lead", doc.party_name)
	doc.buyer_persona = persona or None


def _persona_of(doctype: str, name: str) -> str | None:
	# Plain SQL: runs on every Opportunity created; frappe.db.get_value parses its fields on each call.
	rows = frappe.db.sql(f"select buyer_persona from `tab{doctype}` where name = %s", name)
	return rows[0][0] if rows else None


def enforce_stage_gate(doc, before):
	"""The playbook in force before the save gates the move, whatever the save does to the playbook."""
	if before is None or doc.sales_stage == before.sales_stage or not _gated(before):
		return
	gate = check_stage_gate(
		engine_steps(before.get("playbook_steps") or []),
		before.sales_stage,
		doc.sales_stage,
		sales_stages(),
		user_language(),
	)
	if gate.blocked:
		frappe.throw(_gate_message(gate), title=_("Stage Gate"))


def _gated(before) -> bool:
	candidate = get_candidate(before.get("sales_playbook")) if before.get("sales_playbook") else None
	return bool(candidate and candidate.stage_gate)


def _gate_message(gate: StageGate) -> str:
	params = dict(gate.params)
	if "stage" in params:
		params["stage"] = _(params["stage"])
	return _(gate.template).format(**params)


def switch_held(doc, before, by_hand: bool) -> bool:
	"""Whether the old playbook's open mandatory steps hold the Opportunity on it (module docstring): a switch
	by hand is refused, one the engine chose waits."""
	if before is None or not _gated(before):
		return False
	gate = check_playbook_switch(
		engine_steps(before.get("playbook_steps") or []), before.sales_stage, sales_stages(), user_language()
	)
	if not gate.blocked:
		return False
	if by_hand:
		frappe.throw(_gate_message(gate), title=_("Stage Gate"))
	frappe.msgprint(
		_("Playbook {0} stays until these mandatory steps are done: {1}").format(
			frappe.bold(before.sales_playbook), gate.params["steps"]
		),
		title=_("Stage Gate"),
		alert=True,
	)
	return True


def attach_playbook(doc, before):
	current = before.get("sales_playbook") if before is not None else None
	by_hand = before is not None and doc.get("sales_playbook") != current
	if by_hand:
		target = doc.get("sales_playbook")
	elif before is None and doc.get("sales_playbook"):
		target = doc.sales_playbook
	elif before is None or _conditions_changed(doc, before):
		chosen = choose_playbook(get_candidates(), opportunity_state(doc), sales_stages())
		target = chosen.name if chosen else None
	else:
		return
	if before is not None and (target == current or switch_held(doc, before, by_hand)):
		return
	switch_playbook(doc, target)


def _conditions_changed(doc, before) -> bool:
	return any(
		(flt(doc.get(f)) != flt(before.get(f))) if f == "opportunity_amount" else doc.get(f) != before.get(f)
		for f in CONDITION_FIELDS
	)


def opportunity_state(doc) -> OpportunityState:
	"""Only what some enabled playbook's conditions ask for is looked up (tier, territory tree). A default
	playbook's conditions are never checked (it applies when nothing else matches), so they ask for nothing."""
	candidates = [candidate for candidate in get_candidates() if not candidate.is_default]
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
	"""``territory`` and its ancestors, nearest first, in one query; () when it does not exist."""
	if not territory:
		return ()
	node, ancestor = frappe.qb.DocType("Territory"), frappe.qb.DocType("Territory").as_("ancestor")
	return tuple(
		frappe.qb.from_(node)
		.join(ancestor)
		.on((ancestor.lft <= node.lft) & (ancestor.rgt >= node.rgt))
		.select(ancestor.name)
		.where(node.name == territory)
		.orderby(ancestor.lft, order=frappe.qb.desc)
		.run(pluck=True)
	)


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
	"""Rows for ``steps`` (from ``store.get_playbook_steps``), named, with To Do names of their own.

	They wait in ``doc.flags.crm_new_steps`` rather than in the table: the save would insert them one statement
	per row (a playbook has a dozen or more steps); ``on_update`` inserts them and their To Dos in one statement
	each (``insert_new_steps``) and appends them to the document then."""
	scheduled = schedule_steps([s["step"] for s in steps], getdate(today()))
	last_idx = max((cint(row.idx) for row in doc.get("playbook_steps") or []), default=0)
	new_rows = doc.flags.crm_new_steps = []
	for offset, (source, planned) in enumerate(zip(steps, scheduled, strict=True), start=1):
		new_rows.append(
			frappe.get_doc(
				{
					"doctype": STEP_ROW,
					"name": _new_name(),
					"parent": doc.name,
					"parenttype": doc.doctype,
					"parentfield": "playbook_steps",
					"idx": last_idx + offset,
					"docstatus": 0,
					**step_values(source),
					"status": OPEN,
					"due_date": planned.due_on,
					"todo": _new_name(),
				}
			)
		)


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
		insert_new_steps(doc, added)
		create_todos(doc, added)
	if removed or added:
		refresh_assign(doc.doctype, doc.name)


STEP_ROW_FIELDS = (
	"name",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"docstatus",
	"parent",
	"parenttype",
	"parentfield",
	"idx",
	"playbook_step",
	"step_key",
	*COPIED_FIELDS,
	"status",
	"due_date",
	"todo",
)


def insert_new_steps(doc, rows):
	"""One statement for the new step rows of ``doc`` (``add_step_rows``), then they join its table."""
	now, user = now_datetime(), frappe.session.user
	for row in rows:
		row.update({"creation": now, "modified": now, "owner": user, "modified_by": user})
	insert_rows(STEP_ROW, STEP_ROW_FIELDS, [tuple(row.get(f) for f in STEP_ROW_FIELDS) for row in rows])
	for row in rows:
		doc.append("playbook_steps", row)


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
	insert_rows("ToDo", TODO_FIELDS, values)


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
	# Plain SQL: runs on every Opportunity created whose playbook has a step for another department.
	rows = frappe.db.sql(
		"""select has_role.role, user.name from `tabHas Role` has_role
		join `tabUser` user on user.name = has_role.parent
		where has_role.parenttype = 'User' and has_role.role in %(roles)s and user.enabled = 1
			and user.user_type = 'System User' and user.name not in ('Administrator', 'Guest')
		order by user.name""",
		{"roles": tuple(sorted(roles))},
	)
	grouped: dict[str, list[str]] = {}
	for role, user in rows:
		grouped.setdefault(role, []).append(user)
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
	"""``_assign`` lists the users with an open To Do on the document, as ToDo.update_in_reference keeps it.

	Plain parameterised SQL: this runs on every Opportunity created, and ``frappe.get_all`` plus
	``frappe.db.set_value`` cost ten times more than the two statements themselves."""
	users = frappe.db.sql(
		"""select allocated_to from `tabToDo`
		where reference_type = %s and reference_name = %s and status not in ('Cancelled', 'Closed')
			and ifnull(allocated_to, '') != ''
		order by creation asc""",
		(doctype, name),
		pluck=True,
	)
	frappe.db.sql(
		f"update `tab{doctype}` set `_assign` = %s where name = %s",
		(json.dumps(list(dict.fromkeys(users))), name),
	)
	frappe.clear_document_cache(doctype, name)


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
