"""Multi-row writes as single parameterised statements, and wide reads sent a row at a time.

``frappe.db.bulk_insert`` and ``frappe.db.bulk_update`` build the same statements through pypika (and the
update as one CASE per column per row), which at thousands of rows costs more than the database does.
Values always go through the driver's escaping; field names come from code, never from user input. A value
that is the same for every row (``same_for_all``: a timestamp, the user) is escaped once per statement,
not once per row.

Frappe's driver (PyMySQL) is pure Python and decodes each value of a result on its own: reading 25,000 rows
of twenty columns costs it more than the database spends on them. ``wide_rows`` has the database send each
row as one JSON array, which the standard library's C decoder reads in a fraction of that time.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import frappe

ROWS_PER_STATEMENT = 1000


def insert_rows(
	doctype: str,
	fields: Sequence[str],
	rows: Sequence[Sequence],
	same_for_all: Mapping[str, Any] | None = None,
):
	same_for_all = same_for_all or {}
	literals = [_literal(value) for value in same_for_all.values()]
	for chunk in _chunks(rows):
		statement = insert_statement(doctype, [*fields, *same_for_all], len(chunk), literals)
		frappe.db.sql(statement, _flat(chunk))


def wide_rows(columns: Sequence[str], rest: str, params: Mapping[str, Any] | None = None) -> list[list]:
	"""The rows of ``SELECT columns rest`` as lists, each sent as one JSON array. Numbers come back as
	Python numbers (DECIMAL as float, as Frappe reads it), text as text, NULL as None; a DATETIME would come
	back as text, so read times as numbers (``TO_SECONDS``)."""
	statement = f"SELECT JSON_ARRAY({', '.join(columns)}) {rest}"
	return [json.loads(text) for (text,) in frappe.db.sql(statement, params)]


def update_rows(
	doctype: str,
	fields: Sequence[str],
	rows: Sequence[Sequence],
	same_for_all: Mapping[str, Any] | None = None,
	copies: Mapping[str, str] | None = None,
):
	"""Set ``fields[1:]`` of the rows named by ``fields[0]`` (``name``), ``same_for_all``'s fields to its
	values, and each of ``copies``' fields to the value given for the field it names (the values are sent
	once); names that do not exist are skipped, never inserted (an ``UPDATE … JOIN`` on the rows given as a
	derived table: ``_rows_table``)."""
	key, *columns = fields
	same_for_all, copies = same_for_all or {}, copies or {}
	for chunk in _chunks(rows):
		derived = _rows_table(fields, len(chunk))
		assignments = ", ".join(
			[f"target.`{column}` = source.`{column}`" for column in columns]
			+ [f"target.`{column}` = %s" for column in same_for_all]
			+ [f"target.`{column}` = source.`{source}`" for column, source in copies.items()]
		)
		frappe.db.sql(
			f"""UPDATE `tab{doctype}` target JOIN ({derived}) source ON source.`{key}` = target.`{key}`
			SET {assignments}""",
			[*_flat(chunk), *same_for_all.values()],
		)


def _rows_table(fields: Sequence[str], count: int) -> str:
	"""``count`` rows of parameters as a table whose columns are ``fields``: the first row a ``SELECT`` that
	names them, the others one table value constructor (MariaDB parses it in less time than a ``SELECT``
	per row)."""
	named = "SELECT " + ", ".join(f"%s AS `{field}`" for field in fields)
	if count == 1:
		return named
	row = "(" + ", ".join(["%s"] * len(fields)) + ")"
	return f"{named} UNION ALL VALUES {', '.join([row] * (count - 1))}"


def insert_statement(doctype: str, fields: Sequence[str], count: int, literals: Sequence[str] = ()) -> str:
	"""``fields`` end with one column per ``literals`` (escaped values the same in every row)."""
	columns = ", ".join(f"`{field}`" for field in fields)
	placeholders = "(" + ", ".join(["%s"] * (len(fields) - len(literals)) + list(literals)) + ")"
	return f"INSERT INTO `tab{doctype}` ({columns}) VALUES {', '.join([placeholders] * count)}"


def _literal(value: Any) -> str:
	"""``value`` escaped by the driver, as text to put in a statement that still takes parameters."""
	return frappe.db.mogrify("%s", (value,)).replace("%", "%%")


def _flat(rows: Sequence[Sequence]) -> list:
	return [value for row in rows for value in row]


def _chunks(rows: Sequence[Sequence]):
	for start in range(0, len(rows), ROWS_PER_STATEMENT):
		yield rows[start : start + ROWS_PER_STATEMENT]
