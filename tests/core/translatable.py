"""Finds every user-facing string the app ships, the way Frappe's translation extraction sees them."""

import ast
import csv
import importlib
import json
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "crm_extension"
JS_CALL = re.compile(r"""__\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`$]*)`)""")
TRANSLATE_FUNCTIONS = {"_", "N_"}
DOCTYPE_TEXT_KEYS = ("label", "description")


def python_strings(path: Path) -> set[str]:
	found = set()
	for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
		if (
			isinstance(node, ast.Call)
			and isinstance(node.func, ast.Name)
			and node.func.id in TRANSLATE_FUNCTIONS
			and node.args
			and isinstance(node.args[0], ast.Constant)
			and isinstance(node.args[0].value, str)
		):
			found.add(node.args[0].value)
	return found


def js_strings(path: Path) -> set[str]:
	found = set()
	for match in JS_CALL.finditer(path.read_text()):
		text = next(group for group in match.groups() if group is not None)
		found.add(text.encode().decode("unicode_escape") if "\\" in text else text)
	return found


def doctype_strings(path: Path) -> set[str]:
	doc = json.loads(path.read_text())
	found = {doc["name"]} if doc.get("doctype") == "DocType" else set()
	for field in doc.get("fields", []):
		found.update(field[key] for key in DOCTYPE_TEXT_KEYS if field.get(key))
		if field.get("fieldtype") == "Select" and field.get("options"):
			found.update(option for option in field["options"].split("\n") if option)
	return found


def custom_field_strings() -> set[str]:
	found = set()
	for module_path in APP.glob("*/custom_fields.py"):
		module = importlib.import_module(f"crm_extension.{module_path.parent.name}.custom_fields")
		for fields in getattr(module, "CUSTOM_FIELDS", {}).values():
			for field in fields:
				found.update(field[key] for key in DOCTYPE_TEXT_KEYS if field.get(key))
	return found


def shipped_record_strings() -> set[str]:
	found = set()
	for path in APP.glob("*/defaults/*.json"):
		for record in json.loads(path.read_text()):
			found.add(record["name"])
	return found


def app_strings() -> set[str]:
	strings = custom_field_strings() | shipped_record_strings()
	for path in APP.rglob("*.py"):
		if "tests" not in path.parts and not path.name.startswith("test_"):
			strings |= python_strings(path)
	for path in APP.rglob("*.js"):
		strings |= js_strings(path)
	for path in APP.glob("*/doctype/*/*.json"):
		if path.stem == path.parent.name:
			strings |= doctype_strings(path)
	for path in APP.glob("*/report/*/*.json"):
		strings.add(json.loads(path.read_text())["name"])
	for path in APP.glob("*/workspace/*/*.json"):
		workspace = json.loads(path.read_text())
		strings.add(workspace["label"])
		strings.update(item["label"] for key in ("links", "shortcuts") for item in workspace.get(key, []))
	return {text for text in strings if text.strip()}


def translations(language: str) -> dict[str, str]:
	with open(APP / "translations" / f"{language}.csv", newline="", encoding="utf-8") as handle:
		return {row[0]: row[1] for row in csv.reader(handle) if len(row) >= 2}
