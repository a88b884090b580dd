"""The knowledge the app ships (closing techniques, buyer personas, the default playbook): loading and validation.

Files live in ``sales_playbook/knowledge/``; every text is ``{"en": ..., "fa": ...}``. Loading is pure: paths
in, frozen dataclasses out, and every problem raises ``KnowledgeError`` with a translatable template that names
the place (``where``) and the offending value. Sales stages are checked against a given ordered list (ERPNext's
shipped stages by default) and techniques against the loaded techniques, so an edited playbook can be checked
the same way before it is saved (``parse_playbook`` / ``check_step``).

``due_after_days`` of a step counts from the step before it (the first from the start of the playbook), so the
days a playbook expects an Opportunity to spend in a stage are the sum over that stage's steps.
"""

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_extension.i18n import N_
from crm_extension.sales_playbook.engine.errors import KnowledgeError

KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "knowledge"
TECHNIQUES_FILE = "closing_techniques.json"
PERSONAS_FILE = "buyer_personas.json"
DEFAULT_PLAYBOOK_FILE = "default_playbook.json"

LANGUAGES = ("en", "fa")
# ERPNext's shipped Sales Stages, in the order a deal moves through them.
SALES_STAGES = (
	"Prospecting",
	"Qualification",
	"Needs Analysis",
	"Value Proposition",
	"Identifying Decision Makers",
	"Perception Analysis",
	"Proposal/Price Quote",
	"Negotiation/Review",
)
ACTION_TYPES = ("call", "email", "meeting", "demo", "proposal", "negotiation", "close")
# The shipped CRM Channels (activity_log/defaults/crm_channel.json).
CHANNELS = (
	"Email",
	"Phone",
	"SMS",
	"WhatsApp",
	"Telegram",
	"Meeting",
	"Site Visit",
	"Website",
	"Social Media",
	"Letter",
)
MIN_EXAMPLE_LINES = 2
MAX_EXAMPLE_LINES = 3


@dataclass(frozen=True)
class Text:
	en: str
	fa: str

	def in_language(self, language: str) -> str:
		"""The text in ``language`` ("fa", "fa-IR", "en", ...); English for any other language."""
		return self.fa if language.split("-")[0] == "fa" else self.en


@dataclass(frozen=True)
class ClosingTechnique:
	name: str
	title: Text
	description: Text
	when_it_works: Text
	when_it_backfires: Text
	example_lines: tuple[Text, ...]


@dataclass(frozen=True)
class PersonaSigns:
	speech: Text
	questions: Text
	decisions: Text


@dataclass(frozen=True)
class BuyerPersona:
	name: str
	title: Text
	traits: Text
	signs: PersonaSigns
	how_to_sell: tuple[Text, ...]
	what_to_avoid: tuple[Text, ...]
	suitability: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaybookStep:
	key: str
	sales_stage: str
	title: Text
	action_type: str
	channel: str
	due_after_days: int = 0
	mandatory: bool = False
	guidance: Text | None = None
	closing_technique: str | None = None
	role: str | None = None
	email_template: str | None = None


@dataclass(frozen=True)
class PlaybookConditions:
	"""Unset conditions (None) match anything; ranges are inclusive at both ends."""

	opportunity_type: str | None = None
	from_stage: str | None = None
	to_stage: str | None = None
	customer_tier: str | None = None
	persona: str | None = None
	min_amount: float | None = None
	max_amount: float | None = None
	territory: str | None = None


@dataclass(frozen=True)
class Playbook:
	name: str
	title: Text
	steps: tuple[PlaybookStep, ...]
	conditions: PlaybookConditions = PlaybookConditions()
	priority: int = 0
	is_default: bool = False
	description: Text | None = None


@dataclass(frozen=True)
class Knowledge:
	techniques: Mapping[str, ClosingTechnique]
	personas: Mapping[str, BuyerPersona]
	default_playbook: Playbook
	stages: tuple[str, ...] = SALES_STAGES


# --- loading ---


def load_knowledge(directory: Path = KNOWLEDGE_DIR, stages: Sequence[str] = SALES_STAGES) -> Knowledge:
	"""Load and cross-check the three shipped files in ``directory``."""
	techniques = load_techniques(directory / TECHNIQUES_FILE)
	personas = load_personas(directory / PERSONAS_FILE, techniques)
	playbook = load_playbook(directory / DEFAULT_PLAYBOOK_FILE, stages, techniques)
	return Knowledge(techniques, personas, playbook, tuple(stages))


def load_techniques(path: Path) -> dict[str, ClosingTechnique]:
	records = _records(read_json(path), path.name)
	techniques = [
		parse_technique(record, f"{path.name} › {_label(record, index)}") for index, record in records
	]
	return _unique_by_name(techniques, path.name)


def load_personas(path: Path, technique_names: Collection[str]) -> dict[str, BuyerPersona]:
	records = _records(read_json(path), path.name)
	personas = [
		parse_persona(record, f"{path.name} › {_label(record, index)}", technique_names)
		for index, record in records
	]
	return _unique_by_name(personas, path.name)


def load_playbook(path: Path, stages: Sequence[str], technique_names: Collection[str]) -> Playbook:
	return parse_playbook(read_json(path), path.name, stages, technique_names)


def read_json(path: Path) -> Any:
	try:
		return json.loads(Path(path).read_text(encoding="utf-8"))
	except (OSError, ValueError) as error:
		raise KnowledgeError(
			N_("{source} cannot be loaded: {error}"), {"source": Path(path).name, "error": error}
		)


# --- parsing one record ---


def parse_technique(record: Mapping, where: str) -> ClosingTechnique:
	record = _object(record, where)
	lines = _list(_required(record, "example_lines", where), f"{where} › example_lines")
	if not MIN_EXAMPLE_LINES <= len(lines) <= MAX_EXAMPLE_LINES:
		raise KnowledgeError(
			N_("{where} has {count} example lines; a technique needs two or three"),
			{"where": where, "count": len(lines)},
		)
	return ClosingTechnique(
		name=_name(record, where),
		title=_field_text(record, "title", where),
		description=_field_text(record, "description", where),
		when_it_works=_field_text(record, "when_it_works", where),
		when_it_backfires=_field_text(record, "when_it_backfires", where),
		example_lines=tuple(
			parse_text(line, f"{where} › example_lines[{i}]") for i, line in enumerate(lines)
		),
	)


def parse_persona(record: Mapping, where: str, technique_names: Collection[str]) -> BuyerPersona:
	record = _object(record, where)
	signs = _object(_required(record, "how_to_recognise", where), f"{where} › how_to_recognise")
	signs_where = f"{where} › how_to_recognise"
	return BuyerPersona(
		name=_name(record, where),
		title=_field_text(record, "title", where),
		traits=_field_text(record, "traits", where),
		signs=PersonaSigns(
			*(_field_text(signs, key, signs_where) for key in ("speech", "questions", "decisions"))
		),
		how_to_sell=_text_list(record, "how_to_sell", where),
		what_to_avoid=_text_list(record, "what_to_avoid", where),
		suitability=_suitability(
			_required(record, "techniques", where), f"{where} › techniques", technique_names
		),
	)


def parse_playbook(
	record: Mapping, where: str, stages: Sequence[str], technique_names: Collection[str]
) -> Playbook:
	"""A playbook from its JSON form; ``where`` names it in error messages."""
	record = _object(record, where)
	rows = _list(_required(record, "steps", where), f"{where} › steps")
	if not rows:
		raise KnowledgeError(N_("{where} has no steps; a playbook needs at least one"), {"where": where})
	steps = tuple(
		check_step(
			parse_step(row, f"{where} › step {index + 1}"),
			f"{where} › step {index + 1}",
			stages,
			technique_names,
		)
		for index, row in enumerate(rows)
	)
	_check_unique_keys(steps, where)
	description = record.get("description")
	return Playbook(
		name=_name(record, where),
		title=_field_text(record, "title", where),
		steps=steps,
		conditions=parse_conditions(record.get("conditions") or {}, f"{where} › conditions", stages),
		priority=int(record.get("priority") or 0),
		is_default=bool(record.get("is_default")),
		description=parse_text(description, f"{where} › description") if description else None,
	)


def parse_step(row: Mapping, where: str) -> PlaybookStep:
	row = _object(row, where)
	guidance = row.get("guidance")
	return PlaybookStep(
		key=_required_string(row, "key", where),
		sales_stage=_required_string(row, "sales_stage", where),
		title=_field_text(row, "title", where),
		action_type=_required_string(row, "action_type", where),
		channel=_required_string(row, "channel", where),
		due_after_days=_whole_number(row.get("due_after_days") or 0, f"{where} › due_after_days"),
		mandatory=bool(row.get("mandatory")),
		guidance=parse_text(guidance, f"{where} › guidance") if guidance else None,
		closing_technique=_optional_string(row.get("closing_technique")),
		role=_optional_string(row.get("role")),
		email_template=_optional_string(row.get("email_template")),
	)


def check_step(
	step: PlaybookStep,
	where: str,
	stages: Collection[str],
	technique_names: Collection[str],
	email_templates: Collection[str] | None = None,
	channels: Collection[str] = CHANNELS,
) -> PlaybookStep:
	"""Return ``step`` when everything it refers to exists; ``email_templates`` None skips that check.
	``channels`` defaults to the shipped CRM Channels; a site passes the channels it has."""
	if step.sales_stage not in stages:
		raise KnowledgeError(
			N_("{where} refers to an unknown sales stage {stage}"),
			{"where": where, "stage": step.sales_stage},
		)
	if step.closing_technique and step.closing_technique not in technique_names:
		raise _unknown_technique(where, step.closing_technique)
	if step.action_type not in ACTION_TYPES:
		raise KnowledgeError(
			N_("{where} has an unknown action type {action_type}"),
			{"where": where, "action_type": step.action_type},
		)
	if step.channel not in channels:
		raise KnowledgeError(
			N_("{where} uses an unknown channel {channel}"), {"where": where, "channel": step.channel}
		)
	if step.due_after_days < 0:
		raise KnowledgeError(
			N_("{where} is due after {days} days; the number of days must be zero or more"),
			{"where": where, "days": step.due_after_days},
		)
	if email_templates is not None and step.email_template and step.email_template not in email_templates:
		raise KnowledgeError(
			N_("{where} refers to an unknown email template {template}"),
			{"where": where, "template": step.email_template},
		)
	return step


def parse_conditions(record: Mapping, where: str, stages: Sequence[str]) -> PlaybookConditions:
	"""Blank values mean "not set"; so does an amount of 0, which is what an empty Currency field holds."""
	record = _object(record, where)
	conditions = PlaybookConditions(
		opportunity_type=_optional_string(record.get("opportunity_type")),
		from_stage=_optional_string(record.get("from_stage")),
		to_stage=_optional_string(record.get("to_stage")),
		customer_tier=_optional_string(record.get("customer_tier")),
		persona=_optional_string(record.get("persona")),
		min_amount=_optional_amount(record.get("min_amount"), f"{where} › min_amount"),
		max_amount=_optional_amount(record.get("max_amount"), f"{where} › max_amount"),
		territory=_optional_string(record.get("territory")),
	)
	_check_stage_range(conditions, where, stages)
	_check_amount_range(conditions, where)
	return conditions


def parse_text(value: Any, where: str) -> Text:
	value = _object(value, where)
	texts = {}
	for language in LANGUAGES:
		text = value.get(language)
		if not isinstance(text, str) or not text.strip():
			raise KnowledgeError(N_("{where} has no {language} text"), {"where": where, "language": language})
		texts[language] = text.strip()
	return Text(**texts)


# --- helpers ---


def _records(data: Any, source: str) -> list[tuple[int, Mapping]]:
	return list(enumerate(_list(data, source)))


def _label(record: Any, index: int) -> str:
	name = record.get("name") if isinstance(record, Mapping) else None
	return name if isinstance(name, str) and name.strip() else f"record {index + 1}"


def _unique_by_name(items: Iterable, source: str) -> dict:
	by_name = {}
	for item in items:
		if item.name in by_name:
			raise KnowledgeError(
				N_("The name {name} is used more than once in {source}"),
				{"name": item.name, "source": source},
			)
		by_name[item.name] = item
	return by_name


def _check_unique_keys(steps: Sequence[PlaybookStep], where: str) -> None:
	seen = set()
	for step in steps:
		if step.key in seen:
			raise KnowledgeError(
				N_("{where} uses the step key {key} more than once"), {"where": where, "key": step.key}
			)
		seen.add(step.key)


def _suitability(value: Any, where: str, technique_names: Collection[str]) -> dict[str, float]:
	weights = {}
	for index, entry in enumerate(_list(value, where)):
		entry_where = f"{where}[{index}]"
		technique = _required_string(_object(entry, entry_where), "technique", entry_where)
		if technique not in technique_names:
			raise _unknown_technique(entry_where, technique)
		if technique in weights:
			raise KnowledgeError(
				N_("{where} rates {technique} more than once"), {"where": where, "technique": technique}
			)
		weights[technique] = _weight(entry.get("suitability"), entry_where)
	return weights


def _weight(value: Any, where: str) -> float:
	valid = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
	if not valid:
		raise KnowledgeError(
			N_("{where} gives a suitability of {weight}; it must be between 0 and 1"),
			{"where": where, "weight": value},
		)
	return float(value)


def _check_stage_range(conditions: PlaybookConditions, where: str, stages: Sequence[str]) -> None:
	for stage in (conditions.from_stage, conditions.to_stage):
		if stage is not None and stage not in stages:
			raise KnowledgeError(
				N_("{where} refers to an unknown sales stage {stage}"), {"where": where, "stage": stage}
			)
	if conditions.from_stage and conditions.to_stage:
		if stages.index(conditions.from_stage) > stages.index(conditions.to_stage):
			raise KnowledgeError(
				N_("{where}: the stage range starts at {from_stage}, which comes after {to_stage}"),
				{"where": where, "from_stage": conditions.from_stage, "to_stage": conditions.to_stage},
			)


def _check_amount_range(conditions: PlaybookConditions, where: str) -> None:
	low, high = conditions.min_amount, conditions.max_amount
	if low is not None and high is not None and low > high:
		raise KnowledgeError(
			N_("{where}: the minimum amount {min_amount} is above the maximum amount {max_amount}"),
			{"where": where, "min_amount": low, "max_amount": high},
		)


def _unknown_technique(where: str, technique: str) -> KnowledgeError:
	return KnowledgeError(
		N_("{where} refers to an unknown closing technique {technique}"),
		{"where": where, "technique": technique},
	)


def _field_text(record: Mapping, key: str, where: str) -> Text:
	return parse_text(_required(record, key, where), f"{where} › {key}")


def _text_list(record: Mapping, key: str, where: str) -> tuple[Text, ...]:
	items = _list(_required(record, key, where), f"{where} › {key}")
	return tuple(parse_text(item, f"{where} › {key}[{index}]") for index, item in enumerate(items))


def _name(record: Mapping, where: str) -> str:
	return _required_string(record, "name", where)


def _required(record: Mapping, key: str, where: str) -> Any:
	value = record.get(key)
	if value is None or value == "":
		raise KnowledgeError(N_("{where} › {field} is missing"), {"where": where, "field": key})
	return value


def _required_string(record: Mapping, key: str, where: str) -> str:
	value = _required(record, key, where)
	if not isinstance(value, str) or not value.strip():
		raise _wrong_type(f"{where} › {key}", "text")
	return value.strip()


def _optional_string(value: Any) -> str | None:
	return value.strip() or None if isinstance(value, str) else None


def _optional_amount(value: Any, where: str) -> float | None:
	if value is None or value == "":
		return None
	if isinstance(value, bool) or not isinstance(value, int | float):
		raise _wrong_type(where, "number")
	return float(value) or None


def _whole_number(value: Any, where: str) -> int:
	if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
		raise _wrong_type(where, "whole number")
	return int(value)


def _object(value: Any, where: str) -> Mapping:
	if not isinstance(value, Mapping):
		raise _wrong_type(where, "object")
	return value


def _list(value: Any, where: str) -> list:
	if not isinstance(value, list):
		raise _wrong_type(where, "list")
	return value


def _wrong_type(where: str, expected: str) -> KnowledgeError:
	return KnowledgeError(N_("{where} must be a {expected}"), {"where": where, "expected": expected})
