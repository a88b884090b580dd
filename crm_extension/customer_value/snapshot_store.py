"""A recompute's rows in Customer Value Snapshot, which is also where a run keeps its population.

Pass 1 stages one row per customer (the metrics and the model's inputs); the population-wide numbers the
engine needs are then asked of those rows (RFM cut values, the customers at the tier share cuts) instead of
being held in memory; passes 2 and 3 read the rows back a chunk at a time and update them in place.
Everything here is multi-row SQL on the app's own table, inside the run's transaction.
"""

from collections.abc import Iterator, Sequence
from datetime import date

import frappe

from crm_extension import bulk_sql
from crm_extension.customer_value.engine.tiers import SortKey, sort_key

SNAPSHOT = "Customer Value Snapshot"
TABLE = f"`tab{SNAPSHOT}`"

# A purchaser is in the RFM population when it bought inside the window (see the engine's rfm module).
_RFM_POPULATION = "recompute_id = %(run)s AND purchase_count > 0"


def has_snapshots(company: str, as_of: date) -> bool:
	return bool(frappe.db.exists(SNAPSHOT, {"company": company, "as_of": as_of}))


def delete_snapshots(company: str, as_of: date, customers: Sequence[str]):
	"""A recompute for the same company and date replaces that date's snapshots."""
	snapshot = frappe.qb.DocType(SNAPSHOT)
	frappe.qb.from_(snapshot).delete().where(
		(snapshot.company == company) & (snapshot.as_of == as_of) & snapshot.customer.isin(customers)
	).run()


def update_staged_rows(fields: Sequence[str], rows: list[tuple]):
	"""Set ``fields[1:]`` of the run's staged snapshots named by ``fields[0]``. ``ON DUPLICATE KEY UPDATE``
	(twice as fast here as ``bulk_sql.update_rows``) is safe on this table only: every name was staged in
	this transaction, so no row is ever inserted."""
	if rows:
		assignments = ", ".join(f"`{field}` = VALUES(`{field}`)" for field in fields[1:])
		frappe.db.sql(
			f"{bulk_sql.insert_statement(SNAPSHOT, fields, len(rows))} ON DUPLICATE KEY UPDATE {assignments}",
			[value for row in rows for value in row],
		)


def set_tiers(names_by_tier: dict[str, list[str]]):
	for tier, names in names_by_tier.items():
		frappe.db.sql(f"UPDATE {TABLE} SET value_tier = %s WHERE name IN %s", (tier, tuple(names)))


def staged_chunks(recompute_id: str, fields: Sequence[str], chunk_size: int) -> Iterator[list[dict]]:
	"""The run's snapshots, ``chunk_size`` at a time (keyset on name through the recompute_id index)."""
	columns = ", ".join(f"`{field}`" for field in ("name", *fields))
	last = ""
	while rows := frappe.db.sql(
		f"""SELECT {columns} FROM {TABLE} WHERE recompute_id = %(run)s AND name > %(last)s
		ORDER BY name LIMIT %(size)s""",
		{"run": recompute_id, "last": last, "size": chunk_size},
		as_dict=True,
	):
		yield rows
		last = rows[-1].name


class SnapshotColumn:
	"""The engine's ``SortedColumn`` over the run's RFM population: ``expression`` of its snapshots (for
	values with no small bound, such as the monetary value)."""

	def __init__(self, recompute_id: str, expression: str):
		self.expression = expression  # a column or a negated column, from code (never user input)
		self.params = {"run": recompute_id}

	def size(self) -> int:
		return frappe.db.sql(f"SELECT COUNT(*) FROM {TABLE} WHERE {_RFM_POPULATION}", self.params)[0][0]

	def value_at(self, position: int) -> float:
		return float(
			frappe.db.sql(
				f"""SELECT {self.expression} FROM {TABLE} WHERE {_RFM_POPULATION}
				ORDER BY {self.expression} LIMIT 1 OFFSET %(position)s""",
				{**self.params, "position": position},
			)[0][0]
		)

	def count_below_and_equal(self, value: float) -> tuple[int, int]:
		below, equal = frappe.db.sql(
			f"""SELECT COALESCE(SUM({self.expression} < %(value)s), 0),
				COALESCE(SUM({self.expression} = %(value)s), 0)
			FROM {TABLE} WHERE {_RFM_POPULATION}""",
			{**self.params, "value": value},
		)[0]
		return int(below), int(equal)

	def next_above(self, value: float) -> float | None:
		above = frappe.db.sql(
			f"SELECT MIN({self.expression}) FROM {TABLE} WHERE {_RFM_POPULATION} AND {self.expression} > %(value)s",
			{**self.params, "value": value},
		)[0][0]
		return None if above is None else float(above)


def tier_order_key_at(recompute_id: str):
	"""``key_at(position)`` for the engine's ``tier_cuts``: the run's snapshots by predicted CLV, highest
	first, ties by customer name compared as Python compares text (binary collation)."""

	def key_at(position: int) -> SortKey:
		value, customer = frappe.db.sql(
			f"""SELECT predicted_clv, customer FROM {TABLE} WHERE recompute_id = %(run)s
			ORDER BY predicted_clv DESC, customer COLLATE utf8mb4_bin LIMIT 1 OFFSET %(position)s""",
			{"run": recompute_id, "position": position},
		)[0]
		return sort_key(float(value), customer)

	return key_at
