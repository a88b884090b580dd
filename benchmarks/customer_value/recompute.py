"""Customer-value recompute for 50,000 customers and 1,000,000 Sales Invoice Item rows, against one raw
``GROUP BY customer`` aggregate over the same rows, in the same run.

Run on a bench site that has the app installed:
    bash benchmarks/run.sh value
Sizes for a quicker trial: CRM_BENCH_VALUE_CUSTOMERS=5000 CRM_BENCH_VALUE_LINES=100000;
CRM_BENCH_VALUE_MEMORY=0 skips the (slower, traced) memory runs.

Seeds (fixed random seed, so every run seeds the same shape of data, dated back from today) submitted
Sales Invoices over three years in the test company, drawn from the BG/NBD purchase story (see
`_invoice_plan`; some customers never buy), three to four lines per invoice, 3% credit notes, a quarter
of the invoices with ``update_stock`` and a Stock Ledger Entry per stock line (the margin's first rule),
other stock lines costed from ``Bin`` (the fourth rule), services at no cost, and Payment Ledger Entries
for every invoice and for the payments of most of them (so average days to pay and overdue amounts are
read too). Rows go in with multi-row INSERTs, never a document per record; every seeded name starts with
``PREFIX`` and ``cleanup`` deletes exactly those rows (and the snapshots of those customers).

Measured: the raw aggregate (median of 3 after a warm-up), the full ``recompute`` for the company and
``as_of`` = today (with the time of each phase), the ratio of the two (target ≤ 3), the tracemalloc peak
of a recompute at two chunk sizes and on a tenth of the customers, and the EXPLAIN of the chunk query.
Every recompute is rolled back, so the site's Customer Value Settings and snapshots stay as they were.
"""

import os
import statistics
import time
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta

import frappe
import numpy as np
from frappe.utils import getdate, nowdate

from benchmarks.common import report
from crm_extension.customer_value import recompute as recompute_module
from crm_extension.customer_value import sources

CUSTOMERS = 50_000
LINES = 1_000_000
SEED = 2005
DAYS = 3 * 365
PREFIX = "CVBENCH-"
STOCK_ITEMS = 200
SERVICE_ITEMS = 50
NEVER_BUY_SHARE = 0.15
PURCHASE_RATE_SCALE = 1 / 25  # purchases per day: mean 0.9 / 25, about one a month
RETURN_SHARE = 0.03
UPDATE_STOCK_SHARE = 0.25
PAID_SHARE = 0.85
INSERT_ROWS = 2000
TIMED_CHUNK = recompute_module.CHUNK_SIZE
MEMORY_CHUNKS = (500, 5000)

# Every table the seed writes to, and the column that marks a seeded row.
SEEDED = (
	("Customer Value Snapshot", "customer"),
	("Payment Ledger Entry", "name"),
	("Stock Ledger Entry", "name"),
	("Sales Invoice Item", "name"),
	("Sales Invoice", "name"),
	("Bin", "name"),
	("Item", "name"),
	("Customer", "name"),
)

RAW_AGGREGATE = """
	SELECT si.customer, SUM(sii.base_net_amount)
	FROM `tabSales Invoice` si
	JOIN `tabSales Invoice Item` sii ON sii.parent = si.name AND sii.parenttype = 'Sales Invoice'
	WHERE si.docstatus = 1 AND si.company = %(company)s AND si.posting_date <= %(as_of)s
	GROUP BY si.customer
"""


def _sizes() -> tuple[int, int]:
	return (
		int(os.environ.get("CRM_BENCH_VALUE_CUSTOMERS") or CUSTOMERS),
		int(os.environ.get("CRM_BENCH_VALUE_LINES") or LINES),
	)


def run():
	"""Seed, measure, clean up: what benchmarks/run.sh calls."""
	customers, lines = _sizes()
	cleanup()  # what an interrupted run may have left
	started = time.perf_counter()
	seeded = seed(customers, lines)
	seed_seconds = time.perf_counter() - started
	try:
		result = measure()
	finally:
		cleanup()
	result["seeded"] = {**seeded, "seconds": round(seed_seconds, 1)}
	return report(result)


def seed_only():
	"""Seed and keep the data (to measure repeatedly with `measure_only`); `cleanup` removes it."""
	cleanup()
	started = time.perf_counter()
	seeded = seed(*_sizes())
	return report({**seeded, "seconds": round(time.perf_counter() - started, 1)})


def measure_only():
	return report(measure())


# --- seeding ---------------------------------------------------------------------------------------------


def seed(customers: int, lines: int) -> dict:
	rng = np.random.default_rng(SEED)
	context = _context()
	items = _seed_items(rng, context)
	customer_names = _seed_customers(context, customers)
	counts = _seed_invoices(rng, context, items, customer_names, lines)
	frappe.db.commit()  # the benchmark commits its own data; cleanup removes it
	return {"customers": customers, **counts}


def _context() -> dict:
	company = (
		frappe.db.get_single_value("Global Defaults", "default_company")
		or frappe.get_all("Company", pluck="name", limit=1)[0]
	)
	abbr, currency, receivable, cost_center = frappe.db.get_value(
		"Company", company, ["abbr", "default_currency", "default_receivable_account", "cost_center"]
	)
	return {
		"company": company,
		"currency": currency,
		"receivable": receivable,
		"cost_center": cost_center,
		"warehouse": frappe.db.get_value(
			"Warehouse", {"company": company, "is_group": 0, "warehouse_name": "Stores"}
		)
		or frappe.db.get_value("Warehouse", {"company": company, "is_group": 0}),
		"income_account": frappe.db.get_value("Company", company, "default_income_account"),
		"item_group": frappe.db.get_value("Item Group", {"is_group": 0}),
		"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
		"territory": frappe.db.get_value("Territory", {"is_group": 0}) or "All Territories",
		"as_of": getdate(nowdate()),
		"now": frappe.utils.now_datetime(),
		"abbr": abbr,
	}


def _audit(at) -> list:
	return [at, at, "Administrator", "Administrator"]


AUDIT = ["creation", "modified", "owner", "modified_by"]


def _seed_items(rng, context: dict) -> dict:
	count = STOCK_ITEMS + SERVICE_ITEMS
	price = np.round(np.exp(rng.normal(4.0, 1.0, count)).clip(2, 5000), 2)
	valuation = np.round(price * rng.uniform(0.55, 0.85, count), 2)
	is_stock = np.arange(count) < STOCK_ITEMS
	names = [f"{PREFIX}ITEM-{i:04d}" for i in range(count)]
	now = context["now"]
	_insert(
		"Item",
		[
			"name",
			"item_code",
			"item_name",
			"item_group",
			"stock_uom",
			"is_stock_item",
			"valuation_rate",
			*AUDIT,
		],
		[
			[name, name, name, context["item_group"], "Nos", int(stock), float(rate), *_audit(now)]
			for name, stock, rate in zip(names, is_stock, valuation, strict=True)
		],
	)
	_insert(
		"Bin",
		[
			"name",
			"item_code",
			"warehouse",
			"actual_qty",
			"valuation_rate",
			"stock_value",
			"stock_uom",
			*AUDIT,
		],
		[
			[
				f"{PREFIX}BIN-{i:04d}",
				names[i],
				context["warehouse"],
				1000,
				float(valuation[i]),
				1000 * float(valuation[i]),
				"Nos",
				*_audit(now),
			]
			for i in range(STOCK_ITEMS)
		],
	)
	return {"names": names, "price": price, "valuation": valuation, "is_stock": is_stock}


def _seed_customers(context: dict, customers: int) -> list[str]:
	names = [f"{PREFIX}CUST-{i:06d}" for i in range(customers)]
	_insert(
		"Customer",
		["name", "customer_name", "customer_type", "customer_group", "territory", *AUDIT],
		[
			[
				name,
				f"Benchmark Customer {i}",
				"Company",
				context["customer_group"],
				context["territory"],
				*_audit(context["now"]),
			]
			for i, name in enumerate(names)
		],
	)
	return names


def _seed_invoices(rng, context: dict, items: dict, customers: list[str], lines: int) -> dict:
	invoice_customer, invoice_days, line_counts, is_return = _invoice_plan(rng, len(customers), lines)
	invoices = len(invoice_customer)
	# A credit note returns part of the customer's previous invoice (the one just before it in the plan).
	against = np.where(is_return, np.arange(invoices) - 1, -1)
	update_stock = rng.random(invoices) < UPDATE_STOCK_SHARE
	update_stock[is_return] = update_stock[against[is_return]]
	invoice_days[is_return] = np.maximum(
		invoice_days[against[is_return]] - rng.integers(1, 30, is_return.sum()), 0
	)

	line_invoice = np.repeat(np.arange(invoices), line_counts)
	item = rng.integers(0, len(items["names"]), len(line_invoice))
	qty = (1 + rng.poisson(2.0, len(line_invoice))).astype(float)
	qty[is_return[line_invoice]] *= -1
	rate = np.round(items["price"][item] * rng.uniform(0.9, 1.1, len(line_invoice)), 2)
	amount = np.round(qty * rate, 2)
	totals = np.round(np.bincount(line_invoice, weights=amount, minlength=invoices), 2)

	paid = ~is_return & (rng.random(invoices) < PAID_SHARE)
	pay_days = np.round(invoice_days - rng.exponential(25.0, invoices))
	paid &= pay_days >= 0

	invoice_names = [f"{PREFIX}SINV-{i:07d}" for i in range(invoices)]
	dates = [context["as_of"] - timedelta(days=int(day)) for day in range(DAYS + 1)]
	_insert_invoices(
		context,
		customers,
		invoice_names,
		invoice_customer,
		invoice_days,
		is_return,
		against,
		update_stock,
		totals,
		paid,
		dates,
	)
	stock_lines = _insert_lines(
		context,
		items,
		invoice_names,
		invoice_days,
		update_stock,
		line_invoice,
		item,
		qty,
		rate,
		amount,
		dates,
	)
	ledger = _insert_payment_ledger(
		context,
		customers,
		invoice_names,
		invoice_customer,
		invoice_days,
		is_return,
		against,
		totals,
		paid,
		pay_days,
		dates,
	)
	return {
		"invoices": invoices,
		"returns": int(is_return.sum()),
		"update_stock_invoices": int(update_stock.sum()),
		"sales_invoice_items": len(line_invoice),
		"stock_ledger_entries": stock_lines,
		"payment_ledger_entries": ledger,
		"customers_with_invoices": len(set(invoice_customer.tolist())),
	}


def _invoice_plan(rng, customers: int, lines: int):
	"""Invoices drawn from the BG/NBD story the value model assumes (but with other parameters than any
	fit): each customer is acquired on a day of the last three years, buys at a Poisson rate ~ Gamma and
	drops out after each purchase with a probability ~ Beta; 15% of customers never buy. 3% of the later
	invoices are credit notes of one line. 1 + Poisson(3) lines per invoice, adjusted so that exactly `lines`
	lines exist. Returns per invoice: customer index, days before today, line count, is-return."""
	buyers = rng.random(customers) >= NEVER_BUY_SHARE
	acquired = rng.uniform(0, DAYS, customers)  # days after the start of the three years
	rate = rng.gamma(0.9, PURCHASE_RATE_SCALE, customers)
	dropout = rng.beta(1.0, 5.0, customers)
	invoice_customer, invoice_day = [], []
	for customer in np.flatnonzero(buyers).tolist():
		day, customer_rate, customer_dropout = acquired[customer], rate[customer], dropout[customer]
		while day < DAYS:
			invoice_customer.append(customer)
			invoice_day.append(day)
			if rng.random() < customer_dropout:
				break
			day += rng.exponential(1 / customer_rate)
	invoice_customer = np.array(invoice_customer)
	invoice_days = np.round(DAYS - np.array(invoice_day)).astype(int).clip(0, DAYS)
	same_customer_before = np.r_[False, invoice_customer[1:] == invoice_customer[:-1]]
	is_return = same_customer_before & (rng.random(len(invoice_customer)) < RETURN_SHARE)
	line_counts = np.where(is_return, 1, 1 + rng.poisson(3.0, len(invoice_customer)))
	while line_counts.sum() != lines:  # one line more or less on randomly chosen sales invoices
		excess = int(line_counts.sum() - lines)
		eligible = np.flatnonzero(~is_return & (line_counts > 1 if excess > 0 else True))
		chosen = rng.choice(eligible, min(abs(excess), len(eligible)), replace=False)
		line_counts[chosen] -= int(np.sign(excess))
	return invoice_customer, invoice_days, line_counts, is_return


def _insert_invoices(
	context, customers, names, customer, days, is_return, against, update_stock, totals, paid, dates
):
	columns = [
		"name", "naming_series", "customer", "customer_name", "company", "posting_date", "posting_time",
		"set_posting_time", "due_date", "docstatus", "status", "is_return", "return_against", "update_stock",
		"currency", "conversion_rate", "selling_price_list", "price_list_currency", "plc_conversion_rate",
		"total", "base_total", "net_total", "base_net_total", "grand_total", "base_grand_total",
		"outstanding_amount", "debit_to", "set_warehouse", "cost_center", *AUDIT,
	]  # fmt: skip
	currency = context["currency"]

	def row(i):
		posted, total = dates[days[i]], float(totals[i])
		due = posted + timedelta(days=30)
		outstanding = 0.0 if paid[i] or is_return[i] else total
		status = (
			"Return"
			if is_return[i]
			else "Paid"
			if paid[i]
			else "Overdue"
			if due < context["as_of"]
			else "Unpaid"
		)
		return [
			names[i], "ACC-SINV-.YYYY.-", customers[customer[i]], customers[customer[i]], context["company"],
			posted, "12:00:00", 1, due, 1, status, int(is_return[i]),
			names[against[i]] if is_return[i] else None, int(update_stock[i]), currency, 1,
			"Standard Selling", currency, 1, total, total, total, total, total, total, outstanding,
			context["receivable"], context["warehouse"], context["cost_center"], *_audit(posted),
		]  # fmt: skip

	_insert_rows("Sales Invoice", columns, (row(i) for i in range(len(names))))


def _insert_lines(
	context, items, invoice_names, days, update_stock, line_invoice, item, qty, rate, amount, dates
) -> int:
	columns = [
		"name", "parent", "parenttype", "parentfield", "idx", "docstatus", "item_code", "item_name", "qty",
		"stock_qty", "conversion_factor", "uom", "stock_uom", "price_list_rate", "rate", "base_rate", "net_rate",
		"base_net_rate", "amount", "base_amount", "net_amount", "base_net_amount", "warehouse",
		"income_account", "cost_center", "delivered_qty", *AUDIT,
	]  # fmt: skip
	sle_columns = [
		"name", "item_code", "warehouse", "posting_date", "posting_time", "posting_datetime", "voucher_type",
		"voucher_no", "voucher_detail_no", "actual_qty", "valuation_rate", "stock_value_difference",
		"company", "stock_uom", "is_cancelled", "docstatus", "fiscal_year", *AUDIT,
	]  # fmt: skip
	starts = np.r_[True, line_invoice[1:] != line_invoice[:-1]]
	idx = (
		np.arange(len(line_invoice))
		- np.maximum.accumulate(np.where(starts, np.arange(len(line_invoice)), 0))
		+ 1
	)
	with_sle = update_stock[line_invoice] & items["is_stock"][item]
	names = items["names"]
	sles = []

	def rows():
		for n in range(len(line_invoice)):
			invoice = line_invoice[n]
			posted = dates[days[invoice]]
			line_name = f"{PREFIX}SII-{n:07d}"
			code, q, r, a = names[item[n]], float(qty[n]), float(rate[n]), float(amount[n])
			if with_sle[n]:
				valuation = float(items["valuation"][item[n]])
				sles.append([
					f"{PREFIX}SLE-{n:07d}", code, context["warehouse"], posted, "12:00:00",
					f"{posted} 12:00:00", "Sales Invoice", invoice_names[invoice], line_name, -q, valuation,
					round(-q * valuation, 2), context["company"], "Nos", 0, 1, str(posted.year), *_audit(posted),
				])  # fmt: skip
			yield [
				line_name, invoice_names[invoice], "Sales Invoice", "items", int(idx[n]), 1, code, code, q, q, 1,
				"Nos", "Nos", r, r, r, r, r, a, a, a, a, context["warehouse"], context["income_account"],
				context["cost_center"], 0, *_audit(posted),
			]  # fmt: skip

	def flushing_rows():
		for line in rows():
			yield line
			if len(sles) >= INSERT_ROWS:
				_insert("Stock Ledger Entry", sle_columns, sles)
				sles.clear()

	_insert_rows("Sales Invoice Item", columns, flushing_rows())
	if sles:
		_insert("Stock Ledger Entry", sle_columns, sles)
	return int(with_sle.sum())


def _insert_payment_ledger(
	context, customers, names, customer, days, is_return, against, totals, paid, pay_days, dates
) -> int:
	columns = [
		"name", "posting_date", "company", "account_type", "account", "party_type", "party", "due_date",
		"voucher_type", "voucher_no", "against_voucher_type", "against_voucher_no", "amount",
		"account_currency", "amount_in_account_currency", "delinked", "docstatus", *AUDIT,
	]  # fmt: skip
	counted = [0]

	def rows():
		for i in range(len(names)):
			posted, total, party = dates[days[i]], float(totals[i]), customers[customer[i]]
			against_name = names[against[i]] if is_return[i] else names[i]
			common = [context["company"], "Receivable", context["receivable"], "Customer", party]
			yield [
				f"{PREFIX}PLE-{i:07d}", posted, *common, posted + timedelta(days=30), "Sales Invoice", names[i],
				"Sales Invoice", against_name, total, context["currency"], total, 0, 1, *_audit(posted),
			]  # fmt: skip
			counted[0] += 1
			if paid[i]:
				paid_on = dates[int(pay_days[i])]
				yield [
					f"{PREFIX}PLE-P{i:07d}", paid_on, *common, paid_on, "Payment Entry", f"{PREFIX}PE-{i:07d}",
					"Sales Invoice", names[i], -total, context["currency"], -total, 0, 1, *_audit(paid_on),
				]  # fmt: skip
				counted[0] += 1

	_insert_rows("Payment Ledger Entry", columns, rows())
	return counted[0]


def _insert_rows(doctype: str, columns: list[str], rows):
	batch = []
	for row in rows:
		batch.append(row)
		if len(batch) >= INSERT_ROWS:
			_insert(doctype, columns, batch)
			batch = []
	if batch:
		_insert(doctype, columns, batch)


def _insert(doctype: str, columns: list[str], rows: list[list]):
	"""One multi-row INSERT (values escaped by the driver)."""
	placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
	frappe.db.sql(
		f"INSERT INTO `tab{doctype}` ({', '.join(f'`{column}`' for column in columns)}) VALUES "
		+ ", ".join([placeholders] * len(rows)),
		[value for row in rows for value in row],
	)


def cleanup():
	"""Deletes exactly the seeded rows (names starting with PREFIX) and the snapshots of seeded customers."""
	deleted = {}
	for doctype, column in SEEDED:
		while True:  # in slices, so no single statement holds a million row locks
			frappe.db.sql(f"DELETE FROM `tab{doctype}` WHERE `{column}` LIKE %s LIMIT 50000", (PREFIX + "%",))
			affected = frappe.db._cursor.rowcount
			deleted[doctype] = deleted.get(doctype, 0) + affected
			frappe.db.commit()
			if affected < 50000:
				break
	return deleted


# --- measuring -------------------------------------------------------------------------------------------


def measure() -> dict:
	as_of = getdate(nowdate())
	company = _context()["company"]
	customers = frappe.get_all(
		"Customer", filters={"name": ("like", PREFIX + "%")}, pluck="name", order_by="name"
	)
	params = {"company": company, "as_of": as_of}
	line_count = frappe.db.sql(
		"""SELECT COUNT(*) FROM `tabSales Invoice` si JOIN `tabSales Invoice Item` sii ON sii.parent = si.name
		WHERE si.docstatus = 1 AND si.company = %(company)s AND si.posting_date <= %(as_of)s""",
		params,
	)[0][0]

	frappe.db.sql(RAW_AGGREGATE, params)  # warm-up: both measurements start from a warm buffer pool
	aggregate_runs = [_seconds(lambda: frappe.db.sql(RAW_AGGREGATE, params)) for _ in range(3)]
	aggregate = statistics.median(aggregate_runs)

	phases = {}
	with _phase_timers(phases):
		started = time.perf_counter()
		result = recompute_module.recompute(
			as_of=as_of, company=company, customers=customers, chunk_size=TIMED_CHUNK
		)
		recompute_seconds = time.perf_counter() - started
	frappe.db.rollback()  # the run's snapshots and Customer fields: the site stays as it was

	aggregate_after = _seconds(lambda: frappe.db.sql(RAW_AGGREGATE, params))
	return {
		"machine": _machine(),
		"as_of": str(as_of),
		"customers": len(customers),
		"sales_invoice_item_rows": line_count,
		"raw_group_by_seconds": round(aggregate, 3),
		"raw_group_by_runs": [round(value, 3) for value in [*aggregate_runs, aggregate_after]],
		"recompute_seconds": round(recompute_seconds, 3),
		"recompute_chunk_size": TIMED_CHUNK,
		"recompute_phases_seconds": {name: round(value, 3) for name, value in phases.items()},
		"ratio": round(recompute_seconds / aggregate, 2),
		"target_ratio": 3,
		"recompute_result": {key: result[key] for key in ("customers", "tiers", "model", "fallback_reason")},
		"memory": _memory(as_of, company, customers)
		if os.environ.get("CRM_BENCH_VALUE_MEMORY") != "0"
		else None,
		"explain_chunk_query": _explain(
			sources._INVOICE_FACTS, {**params, "customers": tuple(customers[:TIMED_CHUNK])}
		),
		"explain_raw_group_by": _explain(RAW_AGGREGATE, params),
	}


def _seconds(function) -> float:
	started = time.perf_counter()
	function()
	return time.perf_counter() - started


@contextmanager
def _phase_timers(phases: dict):
	"""Times the phases of `recompute` by wrapping the module's own functions for the duration."""
	wrapped = {
		"stage_read_summarise_insert": "_stage",
		"fit_model": "fit_sampled_model",
		"rfm_cuts": "rfm_cuts",
		"score_and_update": "_score",
		"tier_and_update": "_tier",
		"copy_to_customers": "_update_customers",
		"sync_customer_groups": "_sync_customer_groups",
	}
	originals = {attribute: getattr(recompute_module, attribute) for attribute in wrapped.values()}

	def timer(phase, function):
		def timed(*args, **kwargs):
			started = time.perf_counter()
			try:
				return function(*args, **kwargs)
			finally:
				phases[phase] = phases.get(phase, 0) + time.perf_counter() - started

		return timed

	for phase, attribute in wrapped.items():
		setattr(recompute_module, attribute, timer(phase, originals[attribute]))
	try:
		yield
	finally:
		for attribute, function in originals.items():
			setattr(recompute_module, attribute, function)


def _memory(as_of, company: str, customers: list[str]) -> list[dict]:
	"""tracemalloc peak of whole recomputes (Python allocations, driver buffers included): all customers
	at two chunk sizes, and a tenth of the customers at the smaller one."""
	cases = [(customers, size) for size in MEMORY_CHUNKS] + [
		(customers[: len(customers) // 10], MEMORY_CHUNKS[0])
	]
	results = []
	for names, chunk_size in cases:
		tracemalloc.start()
		try:
			started = time.perf_counter()
			recompute_module.recompute(as_of=as_of, company=company, customers=names, chunk_size=chunk_size)
			seconds = time.perf_counter() - started
			current, peak = tracemalloc.get_traced_memory()
		finally:
			tracemalloc.stop()
			frappe.db.rollback()
		results.append(
			{
				"customers": len(names),
				"chunk_size": chunk_size,
				"peak_mib": round(peak / 2**20, 1),
				"retained_mib": round(current / 2**20, 1),
				"seconds_under_tracemalloc": round(seconds, 1),
			}
		)
	return results


def _explain(query: str, params: dict) -> list[dict]:
	rows = frappe.db.sql("EXPLAIN " + query, params, as_dict=True)
	return [
		{key: row.get(key) for key in ("id", "select_type", "table", "type", "key", "ref", "rows", "Extra")}
		for row in rows
	]


def _machine() -> dict:
	return {
		"cpus": os.cpu_count(),
		"mariadb": frappe.db.sql("SELECT VERSION()")[0][0],
		"innodb_buffer_pool_mib": int(frappe.db.sql("SELECT @@innodb_buffer_pool_size")[0][0]) // 2**20,
	}
