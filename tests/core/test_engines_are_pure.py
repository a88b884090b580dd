"""Engines are plain Python: no framework import, so they run and are tested anywhere."""

import ast
import importlib
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "crm_extension"
ENGINE_FILES = sorted(APP.glob("*/engine/**/*.py"))


def imported_modules(path: Path) -> set[str]:
	modules = set()
	for node in ast.walk(ast.parse(path.read_text())):
		if isinstance(node, ast.Import):
			modules.update(alias.name.split(".")[0] for alias in node.names)
		elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
			modules.add(node.module.split(".")[0])
	return modules


def test_there_are_engines_to_check():
	assert len(ENGINE_FILES) >= 4


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda path: str(path.relative_to(APP)))
def test_engine_module_does_not_import_the_framework(path):
	assert not imported_modules(path) & {"frappe", "erpnext"}


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda path: str(path.relative_to(APP)))
def test_engine_module_imports_without_the_framework(path):
	module = ".".join(path.relative_to(APP.parent).with_suffix("").parts)
	importlib.import_module(module)
