"""What the Opportunity form and ``api.playbook`` show: progress, steps, the next step with its guidance, the
recommended closing technique with its reason, tips for the buyer's persona; and completing a step.

Texts come in the user's language (``frappe.local.lang``), English when there is no Persian text.

**Learning.** Win rates come from closed Opportunities (Converted = won, Lost = lost): their persona, playbook,
done steps, and the closing technique of the last done step that suggests one (the technique used to close).
A daily job (``refresh_win_rates``) reads them in one query and stores the learned counts as data; a guide
reads only that, kept for the request and in the Redis cache for ``WIN_RATES_TTL`` seconds.

**Completing a step** locks the Opportunity row, so two requests for the same step log one CRM Activity: the
second finds the step done and only answers with the guide. The step's To Dos are closed.

**Skipping a step** (an optional one: ``engine.progress.skip_step``) locks the same way and is as harmless to
repeat; the step's To Dos are cancelled and the reason, if any, is left as a comment on the Opportunity.
"""

import json

import frappe
from frappe import _
from frappe.utils import date_diff, escape_html, getdate, now_datetime, today

from crm_extension.activity_log.engine.feed import INBOUND, OUTBOUND
from crm_extension.sales_playbook.attach import (
	STEP_ROW,
	close_todos,
	engine_step,
	refresh_assign,
	store_progress,
)
from crm_extension.sales_playbook.engine.errors import StepError
from crm_extension.sales_playbook.engine.progress import DONE, OPEN, SKIPPED, complete_step, skip_step
from crm_extension.sales_playbook.engine.recommend import (
	ClosedDeal,
	Reason,
	WinRates,
	learn_win_rates,
	recommend,
)
from crm_extension.sales_playbook.engine.state import OpportunityState
from crm_extension.sales_playbook.engine.win_rate_data import win_rates_from_data, win_rates_to_data
from crm_extension.sales_playbook.store import (
	get_candidate,
	get_knowledge,
	get_playbook_steps,
	text,
	text_in_user_language,
	user_language,
)
from crm_extension.sequences import triggers as sequence_triggers

WIN_RATES_KEY = "crm_extension:playbook_win_rates"
WIN_RATES_TTL = 600
WIN_RATES_GLOBAL = "crm_extension_playbook_win_rates"  # the learned win rates, JSON (a global default)
WIN_RATES_JOB = "crm_extension_playbook_win_rates"
RECENT_FEED_ITEMS = 20
WON, LOST = "Converted", "Lost"


# --- the guide ---


def build_guide(doc) -> dict:
	rows = list(doc.get("playbook_steps") or [])
	steps = [engine_step(row) for row in rows]
	by_key = {row.step_key: row for row in rows}
	knowledge = get_knowledge()
	guidance = _guidance(doc.get("sales_playbook"))
	recommendation = recommend(
		opportunity_state(doc),
		steps,
		knowledge,
		now_datetime(),
		rates=win_rates(),
		playbook=doc.get("sales_playbook"),
	)
	action = recommendation.next_actions[0] if recommendation.next_actions else None
	candidate = get_candidate(doc.get("sales_playbook"))
	return {
		"opportunity": doc.name,
		"playbook": doc.get("sales_playbook"),
		"playbook_title": text_in_user_language(candidate.title) if candidate else doc.get("sales_playbook"),
		"stage_gate": bool(candidate and candidate.stage_gate),
		"sales_stage": doc.sales_stage,
		"progress": doc.get("playbook_progress") or 0,
		"steps": [step_answer(row, guidance) for row in rows],
		"next_step": {
			**step_answer(by_key[action.step.key], guidance),
			"reason": reason_text(action.reason, knowledge),
		}
		if action
		else None,
		"recommended_technique": technique_answer(recommendation.techniques, knowledge),
		"persona_tips": persona_answer(knowledge.personas.get(doc.get("buyer_persona") or "")),
		"stalled": {
			"days_in_stage": recommendation.stall.days_in_stage,
			"expected_days": recommendation.stall.expected_days,
			"reason": reason_text(recommendation.stall.reason, knowledge),
		}
		if recommendation.stall
		else None,
	}


def opportunity_state(doc) -> OpportunityState:
	since = doc.get("stage_since") or doc.get("transaction_date") or doc.creation
	return OpportunityState(
		sales_stage=doc.sales_stage or "",
		opportunity_type=doc.opportunity_type or None,
		persona=doc.get("buyer_persona") or None,
		amount=doc.opportunity_amount or None,
		days_in_stage=max(date_diff(today(), getdate(since)), 0),
		competitors=tuple(row.competitor for row in doc.get("competitors") or [] if row.competitor),
		recent_feed=tuple(recent_feed(doc.name)),
	)


def recent_feed(opportunity: str) -> list[dict]:
	"""The latest CRM Activities and emails about the Opportunity itself (two indexed queries)."""
	activities = frappe.get_all(
		"CRM Activity",
		filters={"reference_doctype": "Opportunity", "reference_name": opportunity},
		fields=["channel", "direction", "outcome", "activity_at as at"],
		order_by="activity_at desc",
		limit=RECENT_FEED_ITEMS,
	)
	emails = frappe.get_all(
		"Communication",
		filters={
			"reference_doctype": "Opportunity",
			"reference_name": opportunity,
			"communication_type": "Communication",
		},
		fields=["sent_or_received", "communication_date as at"],
		order_by="communication_date desc",
		limit=RECENT_FEED_ITEMS,
	)
	feed = [dict(item) for item in activities]
	feed += [
		{
			"channel": "Email",
			"direction": INBOUND if e.sent_or_received == "Received" else OUTBOUND,
			"at": e.at,
		}
		for e in emails
	]
	return feed


def _guidance(playbook: str | None) -> dict[str, str]:
	"""Guidance is read from the playbook as it is now, so improving it helps every open deal."""
	if not playbook or not frappe.db.exists("Sales Playbook", playbook):
		return {}
	return {
		source["name"]: source["guidance"].in_language(user_language())
		for source in get_playbook_steps(playbook)
		if source["guidance"].en
	}


def step_answer(row, guidance: dict[str, str]) -> dict:
	due = getdate(row.due_date) if row.due_date else None
	open_ = row.status == OPEN
	return {
		"name": row.name,
		"key": row.step_key,
		"title": text(row.title, row.title_fa).in_language(user_language()),
		"sales_stage": row.sales_stage,
		"action_type": row.action_type,
		"channel": row.channel,
		"mandatory": bool(row.mandatory),
		"status": row.status,
		"due_date": str(due) if due else None,
		"overdue_days": max((getdate(today()) - due).days, 0) if open_ and due else 0,
		"done_on": str(row.done_on) if row.done_on else None,
		"done_by": row.done_by,
		"closing_technique": row.closing_technique,
		"role": row.role,
		"activity": row.activity,
		"guidance": guidance.get(row.playbook_step),
	}


def technique_answer(ranked, knowledge) -> dict | None:
	if not ranked:
		return None
	best = ranked[0]
	technique = knowledge.techniques[best.name]
	language = user_language()
	return {
		"name": best.name,
		"title": technique.title.in_language(language),
		"reason": reason_text(best.reason, knowledge),
		"reasons": [reason_text(reason, knowledge) for reason in best.reasons],
		"description": technique.description.in_language(language),
		"example_lines": [line.in_language(language) for line in technique.example_lines],
		"win_rate": round(best.win_rate, 3),
		"deals": best.deals,
	}


def persona_answer(persona) -> dict | None:
	if persona is None:
		return None
	language = user_language()
	return {
		"persona": persona.name,
		"title": persona.title.in_language(language),
		"traits": persona.traits.in_language(language),
		"how_they_speak": persona.signs.speech.in_language(language),
		"what_they_ask": persona.signs.questions.in_language(language),
		"how_they_decide": persona.signs.decisions.in_language(language),
		"how_to_sell": [tip.in_language(language) for tip in persona.how_to_sell],
		"what_to_avoid": [tip.in_language(language) for tip in persona.what_to_avoid],
	}


def reason_text(reason: Reason, knowledge) -> str:
	"""The engine's reason in the user's language: technique and persona by their titles, stages translated."""
	language = user_language()
	params = dict(reason.params)
	if params.get("technique") in knowledge.techniques:
		params["technique"] = knowledge.techniques[params["technique"]].title.in_language(language)
	if params.get("persona") in knowledge.personas:
		params["persona"] = knowledge.personas[params["persona"]].title.in_language(language)
	if "stage" in params:
		params["stage"] = _(params["stage"])
	return _(reason.template).format(**params)


# --- learning from closed deals ---


def win_rates() -> WinRates:
	"""The learned win rates as the last refresh stored them; a guide never reads the closed deals."""
	cached = getattr(frappe.local, "crm_playbook_win_rates", None)
	if cached is None:
		cached = frappe.cache().get_value(WIN_RATES_KEY)
		if cached is None:
			cached = stored_win_rates()
			frappe.cache().set_value(WIN_RATES_KEY, cached, expires_in_sec=WIN_RATES_TTL)
		frappe.local.crm_playbook_win_rates = cached
	return cached


def stored_win_rates() -> WinRates:
	"""What ``refresh_win_rates`` stored; before its first run, no history (and a refresh is queued)."""
	data = frappe.db.get_global(WIN_RATES_GLOBAL)
	if not data:
		frappe.enqueue(
			"crm_extension.sales_playbook.guide.refresh_win_rates",
			queue="long",
			job_id=f"{WIN_RATES_JOB}::{frappe.local.site}",
			deduplicate=True,
		)
		return WinRates()
	return win_rates_from_data(json.loads(data))


def refresh_win_rates():
	"""Learn the win rates from every closed Opportunity and store them (the daily job)."""
	rates = learn_win_rates(closed_deals())
	frappe.db.set_global(WIN_RATES_GLOBAL, json.dumps(win_rates_to_data(rates)))
	frappe.cache().delete_value(WIN_RATES_KEY)
	frappe.local.crm_playbook_win_rates = rates
	return rates


def clear_win_rates():
	"""Relearn the win rates now (after deals were closed in a script or a test)."""
	refresh_win_rates()


def closed_deals() -> list[ClosedDeal]:
	opportunity, step = frappe.qb.DocType("Opportunity"), frappe.qb.DocType(STEP_ROW)
	rows = (
		frappe.qb.from_(opportunity)
		.left_join(step)
		.on(
			(step.parent == opportunity.name)
			& (step.parenttype == "Opportunity")
			& (step.parentfield == "playbook_steps")
			& (step.status == DONE)
		)
		.select(
			opportunity.name,
			opportunity.status,
			opportunity.buyer_persona,
			opportunity.sales_playbook,
			step.step_key,
			step.closing_technique,
		)
		.where(opportunity.status.isin([WON, LOST]))
		.orderby(opportunity.name)
		.orderby(step.done_on)
		.orderby(step.idx)
		.run(as_dict=True)
	)
	deals: dict[str, dict] = {}
	for row in rows:
		deal = deals.setdefault(
			row.name,
			{
				"won": row.status == WON,
				"persona": row.buyer_persona,
				"playbook": row.sales_playbook,
				"steps": [],
			},
		)
		if row.step_key:
			deal["steps"].append(row.step_key)
			deal["technique"] = row.closing_technique or deal.get("technique")
	return [
		ClosedDeal(
			won=deal["won"],
			persona=deal["persona"] or None,
			technique=deal.get("technique"),
			playbook=deal["playbook"] or None,
			completed_steps=frozenset(deal["steps"]),
		)
		for deal in deals.values()
	]


# --- completing a step ---


def complete(opportunity: str, step: str, outcome: str | None = None, notes: str | None = None) -> bool:
	"""Mark ``step`` done and log it; False when it was done already (nothing is written then)."""
	frappe.db.get_value("Opportunity", opportunity, "name", for_update=True)
	row = step_row(
		opportunity, step, ["name", "step_key", "status", "title", "title_fa", "channel", "role", "mandatory"]
	)
	current = engine_step(row)
	try:
		result = complete_step([current], current.key, getdate(today()), frappe.session.user)
	except StepError as error:
		title = text(row.title, row.title_fa).in_language(user_language())
		frappe.throw(
			_(error.template).format(**{**error.params, "step": title}), title=_("Cannot Complete Step")
		)
	if not result.changed:
		return False
	activity = log_activity(opportunity, row, outcome, notes)
	frappe.db.set_value(
		STEP_ROW,
		step,
		{"status": DONE, "done_on": today(), "done_by": frappe.session.user, "activity": activity},
		update_modified=False,
	)
	close_todos(opportunity, [step])
	refresh_assign("Opportunity", opportunity)
	sequence_triggers.on_playbook_step_done(opportunity, row.title, row.title_fa)
	# `modified` moves, so a form opened before the step was completed cannot save over it.
	store_progress(opportunity, update_modified=True)
	return True


def skip(opportunity: str, step: str, reason: str | None = None) -> bool:
	"""Mark the optional ``step`` skipped; False when it was no longer open (nothing is written then)."""
	frappe.db.get_value("Opportunity", opportunity, "name", for_update=True)
	row = step_row(
		opportunity, step, ["name", "step_key", "status", "title", "title_fa", "sales_stage", "mandatory"]
	)
	title = text(row.title, row.title_fa).in_language(user_language())
	current = engine_step(row)
	try:
		result = skip_step([current], current.key, getdate(today()), frappe.session.user)
	except StepError as error:
		frappe.throw(_(error.template).format(**{**error.params, "step": title}), title=_("Cannot Skip Step"))
	if not result.changed:
		return False
	frappe.db.set_value(
		STEP_ROW,
		step,
		{"status": SKIPPED, "done_on": today(), "done_by": frappe.session.user},
		update_modified=False,
	)
	close_todos(opportunity, [step], status="Cancelled")
	refresh_assign("Opportunity", opportunity)
	content = _("Playbook step skipped: {0}").format(escape_html(title))
	if reason:
		content += f"<br>{escape_html(reason)}"
	frappe.get_doc(
		{
			"doctype": "Comment",
			"comment_type": "Info",
			"reference_doctype": "Opportunity",
			"reference_name": opportunity,
			"content": content,
		}
	).insert(ignore_permissions=True)
	store_progress(opportunity, update_modified=True)
	return True


def step_row(opportunity: str, step: str, fields: list[str]):
	row = frappe.db.get_value(
		STEP_ROW, {"name": step, "parent": opportunity, "parenttype": "Opportunity"}, fields, as_dict=True
	)
	if not row:
		frappe.throw(
			_("This Opportunity has no playbook step {step}").format(step=step),
			frappe.DoesNotExistError,
			title=_("Not Found"),
		)
	return row


def log_activity(opportunity: str, row, outcome: str | None, notes: str | None) -> str:
	title = text(row.title, row.title_fa).in_language(user_language())
	activity = frappe.get_doc(
		{
			"doctype": "CRM Activity",
			"channel": row.channel,
			"direction": "Internal" if row.role else "Outbound",
			"outcome": outcome or "Completed",
			"activity_at": now_datetime(),
			"reference_doctype": "Opportunity",
			"reference_name": opportunity,
			"subject": _("Playbook step done: {0}").format(title)[:140],
			"details": notes,
			"performed_by": frappe.session.user,
		}
	)
	# The caller may write the Opportunity; the activity is part of that change.
	activity.insert(ignore_permissions=True)
	return activity.name
