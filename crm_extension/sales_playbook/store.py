"""The playbook knowledge as the site stores it, turned into the engine's plain objects.

Closing Techniques, Buyer Personas and enabled Sales Playbooks are read set-based (one query per table) and
kept in the Redis cache until one of them is saved or deleted (their controllers call ``clear_cache``). The
sales-stage order is ERPNext's shipped order followed by the site's own stages, alphabetically.

Texts are stored in English with a ``*_fa`` Persian twin; the engine's ``Text`` falls back to English when
the Persian text is empty, and ``text_in_user_language`` picks the user's language (``frappe.local.lang``).
"""

from dataclasses import dataclass

import frappe
from frappe.utils import cint, flt

from crm_extension.sales_playbook.engine.knowledge import (
	SALES_STAGES,
	BuyerPersona,
	ClosingTechnique,
	Knowledge,
	PersonaSigns,
	PlaybookConditions,
	PlaybookStep,
	Text,
)

KNOWLEDGE_KEY = "crm_extension:playbook_knowledge"
PLAYBOOKS_KEY = "crm_extension:playbook_candidates"
STEPS_KEY = "crm_extension:playbook_steps"
STEP_FIELDS = (
	"name",
	"idx",
	"step_key",
	"sales_stage",
	"title",
	"title_fa",
	"action_type",
	"channel",
	"due_after_days",
	"mandatory",
	"guidance",
	"guidance_fa",
	"closing_technique",
	"role",
	"email_template",
)
CONDITION_FIELDS = (
	"opportunity_type",
	"from_stage",
	"to_stage",
	"customer_tier",
	"buyer_persona",
	"min_amount",
	"max_amount",
	"territory",
)


@dataclass(frozen=True)
class PlaybookCandidate:
	"""What matching needs of a Sales Playbook (``engine.matching.Candidate``)."""

	name: str
	priority: int
	is_default: bool
	stage_gate: bool
	conditions: PlaybookConditions
	title: Text


def text(english: str | None, persian: str | None) -> Text:
	english = (english or "").strip()
	return Text(english, (persian or "").strip() or english)


def user_language() -> str:
	return getattr(frappe.local, "lang", None) or "en"


def text_in_user_language(value: Text | None) -> str | None:
	return value.in_language(user_language()) if value else None


def clear_cache(doc=None, method=None):
	cache = frappe.cache()
	for key in (KNOWLEDGE_KEY, PLAYBOOKS_KEY):
		cache.delete_value(key)
	cache.delete_keys(STEPS_KEY)
	frappe.local.crm_playbook_stages = None


# --- sales stages ---


def sales_stages() -> tuple[str, ...]:
	cached = getattr(frappe.local, "crm_playbook_stages", None)
	if cached is None:
		existing = set(frappe.get_all("Sales Stage", pluck="name"))
		shipped = [stage for stage in SALES_STAGES if stage in existing]
		cached = (*shipped, *sorted(existing - set(shipped)))
		frappe.local.crm_playbook_stages = cached
	return cached


# --- knowledge ---


def get_knowledge() -> Knowledge:
	"""Techniques and personas of the site (the ``default_playbook`` of the result is unused and None)."""
	knowledge = frappe.cache().get_value(KNOWLEDGE_KEY)
	if knowledge is None:
		knowledge = Knowledge(load_techniques(), load_personas(), None, sales_stages())
		frappe.cache().set_value(KNOWLEDGE_KEY, knowledge)
	return knowledge


def load_techniques() -> dict[str, ClosingTechnique]:
	examples = _children("Closing Technique Example", ["parent", "line", "line_fa"])
	return {
		row.name: ClosingTechnique(
			name=row.name,
			title=text(row.name, row.title_fa),
			description=text(row.description, row.description_fa),
			when_it_works=text(row.when_it_works, row.when_it_works_fa),
			when_it_backfires=text(row.when_it_backfires, row.when_it_backfires_fa),
			example_lines=tuple(text(line.line, line.line_fa) for line in examples.get(row.name, [])),
		)
		for row in frappe.get_all(
			"Closing Technique",
			fields=["name", "title_fa", *_with_persian("description", "when_it_works", "when_it_backfires")],
			order_by="name asc",
		)
	}


def load_personas() -> dict[str, BuyerPersona]:
	tips = _children("Buyer Persona Tip", ["parent", "tip_type", "tip", "tip_fa"])
	weights = _children("Buyer Persona Technique", ["parent", "closing_technique", "suitability"])
	personas = {}
	for row in frappe.get_all(
		"Buyer Persona",
		fields=["name", *_with_persian("title", "traits", "speech", "questions", "decisions")],
		order_by="name asc",
	):
		persona_tips = tips.get(row.name, [])
		personas[row.name] = BuyerPersona(
			name=row.name,
			title=text(row.title, row.title_fa),
			traits=text(row.traits, row.traits_fa),
			signs=PersonaSigns(
				*(text(row[key], row[f"{key}_fa"]) for key in ("speech", "questions", "decisions"))
			),
			how_to_sell=tuple(text(t.tip, t.tip_fa) for t in persona_tips if t.tip_type == "How to Sell"),
			what_to_avoid=tuple(text(t.tip, t.tip_fa) for t in persona_tips if t.tip_type == "What to Avoid"),
			suitability={w.closing_technique: flt(w.suitability) / 100 for w in weights.get(row.name, [])},
		)
	return personas


def _with_persian(*fields: str) -> list[str]:
	return [name for field in fields for name in (field, f"{field}_fa")]


def _children(doctype: str, fields: list[str]) -> dict[str, list]:
	grouped: dict[str, list] = {}
	for row in frappe.get_all(doctype, fields=fields, order_by="parent asc, idx asc"):
		grouped.setdefault(row.parent, []).append(row)
	return grouped


# --- playbooks ---


def get_candidates() -> tuple[PlaybookCandidate, ...]:
	"""Every enabled Sales Playbook with its conditions, for ``engine.matching.choose_playbook``."""
	candidates = frappe.cache().get_value(PLAYBOOKS_KEY)
	if candidates is None:
		candidates = tuple(
			_candidate(row)
			for row in frappe.get_all(
				"Sales Playbook",
				filters={"enabled": 1},
				fields=["name", "title_fa", "priority", "is_default", "stage_gate", *CONDITION_FIELDS],
				order_by="name asc",
			)
		)
		frappe.cache().set_value(PLAYBOOKS_KEY, candidates)
	return candidates


def get_candidate(name: str | None) -> PlaybookCandidate | None:
	return next((candidate for candidate in get_candidates() if candidate.name == name), None)


def _candidate(row) -> PlaybookCandidate:
	return PlaybookCandidate(
		name=row.name,
		priority=cint(row.priority),
		is_default=bool(row.is_default),
		stage_gate=bool(row.stage_gate),
		conditions=conditions_of(row),
		title=text(row.name, row.title_fa),
	)


def conditions_of(row) -> PlaybookConditions:
	"""Blank links and zero amounts (an empty Currency field) are unset conditions."""
	return PlaybookConditions(
		opportunity_type=row.get("opportunity_type") or None,
		from_stage=row.get("from_stage") or None,
		to_stage=row.get("to_stage") or None,
		customer_tier=row.get("customer_tier") or None,
		persona=row.get("buyer_persona") or None,
		min_amount=flt(row.get("min_amount")) or None,
		max_amount=flt(row.get("max_amount")) or None,
		territory=row.get("territory") or None,
	)


def get_playbook_steps(playbook: str) -> list[dict]:
	"""The steps of ``playbook`` in order, as plain dicts with ``step`` (the engine's ``PlaybookStep``)."""
	key = f"{STEPS_KEY}:{playbook}"
	steps = frappe.cache().get_value(key)
	if steps is None:
		rows = frappe.get_all(
			"Sales Playbook Step",
			filters={"parent": playbook, "parenttype": "Sales Playbook", "parentfield": "steps"},
			fields=list(STEP_FIELDS),
			order_by="idx asc",
		)
		steps = [
			{"name": row.name, "step": playbook_step(row), "guidance": text(row.guidance, row.guidance_fa)}
			for row in rows
		]
		frappe.cache().set_value(key, steps)
	return steps


def playbook_step(row) -> PlaybookStep:
	guidance = text(row.get("guidance"), row.get("guidance_fa"))
	return PlaybookStep(
		key=row.get("step_key") or row.get("name"),
		sales_stage=row.get("sales_stage"),
		title=text(row.get("title"), row.get("title_fa")),
		action_type=(row.get("action_type") or "").lower(),
		channel=row.get("channel"),
		due_after_days=cint(row.get("due_after_days")),
		mandatory=bool(cint(row.get("mandatory"))),
		guidance=guidance if guidance.en else None,
		closing_technique=row.get("closing_technique") or None,
		role=row.get("role") or None,
		email_template=row.get("email_template") or None,
	)
