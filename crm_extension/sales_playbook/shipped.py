"""The shipped knowledge (``knowledge/*.json``, checked by the engine) as records to insert.

``setup.defaults`` inserts them when missing and never overwrites them, so edits by the CRM Extension
Manager survive every migrate. Techniques come first: personas and the default playbook link to them.
"""

from crm_extension.sales_playbook.engine.knowledge import (
	DEFAULT_PLAYBOOK_FILE,
	KNOWLEDGE_DIR,
	PERSONAS_FILE,
	TECHNIQUES_FILE,
	read_json,
)


def shipped_records() -> list[dict]:
	return [
		*(technique_record(record) for record in read_json(KNOWLEDGE_DIR / TECHNIQUES_FILE)),
		*(persona_record(record) for record in read_json(KNOWLEDGE_DIR / PERSONAS_FILE)),
		playbook_record(read_json(KNOWLEDGE_DIR / DEFAULT_PLAYBOOK_FILE)),
	]


def technique_record(record: dict) -> dict:
	return {
		"doctype": "Closing Technique",
		"name": record["name"],
		"technique_name": record["name"],
		"title_fa": record["title"]["fa"],
		"is_standard": 1,
		**_texts(record, "description", "when_it_works", "when_it_backfires"),
		"example_lines": [{"line": line["en"], "line_fa": line["fa"]} for line in record["example_lines"]],
	}


def persona_record(record: dict) -> dict:
	signs = record["how_to_recognise"]
	return {
		"doctype": "Buyer Persona",
		"name": record["name"],
		"persona_name": record["name"],
		"is_standard": 1,
		**_texts(record, "title", "traits"),
		**_texts(signs, "speech", "questions", "decisions"),
		"tips": [
			{"tip_type": tip_type, "tip": tip["en"], "tip_fa": tip["fa"]}
			for key, tip_type in (("how_to_sell", "How to Sell"), ("what_to_avoid", "What to Avoid"))
			for tip in record[key]
		],
		"techniques": [
			{"closing_technique": entry["technique"], "suitability": round(100 * entry["suitability"], 2)}
			for entry in record["techniques"]
		],
	}


def playbook_record(record: dict) -> dict:
	conditions = record.get("conditions") or {}
	return {
		"doctype": "Sales Playbook",
		"name": record["name"],
		"playbook_name": record["name"],
		"title_fa": record["title"]["fa"],
		"enabled": 1,
		"is_default": int(bool(record.get("is_default"))),
		"priority": record.get("priority") or 0,
		"is_standard": 1,
		**{key: conditions.get(key) for key in ("opportunity_type", "from_stage", "to_stage", "territory")},
		"buyer_persona": conditions.get("persona"),
		"customer_tier": conditions.get("customer_tier"),
		**(_texts(record, "description") if record.get("description") else {}),
		"steps": [step_record(step) for step in record["steps"]],
	}


def step_record(step: dict) -> dict:
	guidance = step.get("guidance") or {}
	return {
		"step_key": step["key"],
		"sales_stage": step["sales_stage"],
		"title": step["title"]["en"],
		"title_fa": step["title"]["fa"],
		"action_type": step["action_type"].title(),
		"channel": step["channel"],
		"due_after_days": step.get("due_after_days") or 0,
		"mandatory": int(bool(step.get("mandatory"))),
		"guidance": guidance.get("en"),
		"guidance_fa": guidance.get("fa"),
		"closing_technique": step.get("closing_technique"),
		"role": step.get("role"),
		"email_template": step.get("email_template"),
	}


def _texts(record: dict, *keys: str) -> dict:
	return {
		name: record[key][language] for key in keys for name, language in ((key, "en"), (f"{key}_fa", "fa"))
	}
