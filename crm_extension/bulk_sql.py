"""Multi-row writes as single parameterised statements.

``frappe.db.bulk_insert`` and ``frappe.db.bulk_update`` build the same statements through pypika (and the
update as one CASE per column per row), which at thousands of rows costs more than the database does.
Values always go to the driver as parameters; field names come from code, never from user input.
"""

from collections.abc import Sequence

import frappe

ROWS_PER_STATEMENT = 1000


def insert_rows(doctype: str, fields: Sequence[str], rows: Sequence[Sequence]):
	for chunk in _chunks(rows):
		frappe.db.sql(insert_statement(doctype, fields, len(chunk)), _flat(chunk))


def update_rows(doctype: str, fields: Sequence[str], rows: Sequence[Sequence]):
	"""Set ``fields[1:]`` of the rows named by ``fields[0]`` (``name``); names that do not exist are skipped,
	never inserted (an ``UPDATE … JOIN`` on the rows given as a derived table)."""
	key, *columns = fields
	for chunk in _chunks(rows):
		first = ", ".join(f"%s AS `{field}`" for field in fields)
		rest = ", ".join(["%s"] * len(fields))
		derived = " UNION ALL ".join([f"SELECT {first}", *[f"SELECT {rest}"] * (len(chunk) - 1)])
		assignments = ", ".join(f"target.`{column}` = source.`{column}`" for column in columns)
		frappe.db.sql(
			f"""UPDATE `tab{doctype}` target JOIN ({derived}) source ON source.`{key}` = target.`{key}`
			SET {assignments}""",
			_flat(chunk),
		)


def insert_statement(doctype: str, fields: Sequence[str], count: int) -> str:
	columns = ", ".join(f"`{field}`" for field in fields)
	placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
	return f"INSERT INTO `tab{doctype}` ({columns}) VALUES {', '.join([placeholders] * count)}"


def _flat(rows: Sequence[Sequence]) -> list:
	return [value for row in rows for value in row]


def _chunks(rows: Sequence[Sequence]):
	for start in range(0, len(rows), ROWS_PER_STATEMENT):
		yield rows[start : start + ROWS_PER_STATEMENT]
