"""Multi-row writes as single parameterised statements.

``frappe.db.bulk_insert`` and ``frappe.db.bulk_update`` build the same statements through pypika (and the
update as one CASE per column per row), which at thousands of rows costs more than the database does.
Values always go through the driver's escaping; field names come from code, never from user input. A value
that is the same for every row (``same_for_all``: a timestamp, the user) is escaped once per statement,
not once per row.
"""

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
	derived table)."""
	key, *columns = fields
	same_for_all, copies = same_for_all or {}, copies or {}
	for chunk in _chunks(rows):
		first = ", ".join(f"%s AS `{field}`" for field in fields)
		rest = ", ".join(["%s"] * len(fields))
		derived = " UNION ALL ".join([f"SELECT {first}", *[f"SELECT {rest}"] * (len(chunk) - 1)])
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
