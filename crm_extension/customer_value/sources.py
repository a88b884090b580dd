"""Customer-value facts read from where ERPNext keeps them: one query per chunk of customers.

Revenue
	``base_net_amount`` of Sales Invoice Items (company currency, after discounts, before taxes) of
	submitted invoices (``docstatus = 1``; cancelled and draft invoices never count) of one company,
	posted on or before ``as_of``. Credit notes (``is_return``) carry negative amounts, so returns
	subtract. One ``InvoiceFact`` per invoice: the engine treats a negative one as a return.

Margin (cost of what was delivered, as ERPNext's Gross Profit report takes it), per invoice line,
the first that applies:

1. the invoice updated stock: the stock value that left with it, ``-SUM(stock_value_difference)`` of its
   Stock Ledger Entries for that line (product bundles included: their packed items post against the
   bundle's line);
2. the line was billed from a Delivery Note (``dn_detail``): that delivery's stock value, pro-rated by
   the billed share of the delivered quantity;
3. a Delivery Note was made from the invoice (Delivery Note Item ``si_detail``): its stock value;
4. a stock item not delivered yet: quantity × the current valuation rate of its warehouse (``Bin``);
5. anything else (services, non-stock items): no cost, so margin = net amount. ERPNext keeps no
   valuation for them; a user who wants their cost in the margin makes them stock items.

A return reverses stock the same way (positive stock value difference), so its cost is negative and the
margin of a full return cancels the sale's. Cancelled stock entries (``is_cancelled``) never count.

Payment behaviour comes from the Payment Ledger:

- ``avg_days_to_pay``: days from the invoice's posting date to each allocation of a Payment Entry or
  Journal Entry against it (the ledger row's posting date, 0 when paid in advance), weighted by the
  amount allocated, over allocations posted on or before ``as_of``; None when nothing was paid;
- ``overdue_amount``: what was still open on ``as_of`` of the invoices due before ``as_of``.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import frappe

from crm_extension.customer_value.engine.history import InvoiceFact


@dataclass(frozen=True)
class PaymentBehaviour:
	avg_days_to_pay: float | None
	overdue_amount: float


# COALESCE stops at the first rule that applies, so a line reads only the ledger rows it needs.
_LINE_COST = """
	COALESCE(
		IF(si.update_stock = 1, -(
			SELECT SUM(sle.stock_value_difference) FROM `tabStock Ledger Entry` sle
			WHERE sle.voucher_type = 'Sales Invoice' AND sle.voucher_no = si.name
				AND sle.voucher_detail_no = sii.name AND sle.is_cancelled = 0
		), NULL),
		IF(IFNULL(sii.dn_detail, '') != '', -(
			SELECT SUM(sle.stock_value_difference) * sii.stock_qty / NULLIF(MAX(dni.stock_qty), 0)
			FROM `tabDelivery Note Item` dni
			JOIN `tabStock Ledger Entry` sle ON sle.voucher_type = 'Delivery Note'
				AND sle.voucher_no = dni.parent AND sle.voucher_detail_no = dni.name AND sle.is_cancelled = 0
			WHERE dni.name = sii.dn_detail AND dni.docstatus = 1
		), NULL),
		IF(si.update_stock = 0 AND sii.delivered_qty != 0, -(
			SELECT SUM(sle.stock_value_difference) FROM `tabDelivery Note Item` made
			JOIN `tabStock Ledger Entry` sle ON sle.voucher_type = 'Delivery Note'
				AND sle.voucher_no = made.parent AND sle.voucher_detail_no = made.name AND sle.is_cancelled = 0
			WHERE made.against_sales_invoice = si.name AND made.si_detail = sii.name AND made.docstatus = 1
		), NULL),
		IF(item.is_stock_item = 1, sii.stock_qty * IFNULL((
			SELECT bin.valuation_rate FROM `tabBin` bin
			WHERE bin.item_code = sii.item_code AND bin.warehouse = sii.warehouse
		), 0), NULL),
		0
	)
"""

# STRAIGHT_JOIN: start from the chunk's invoices (customer index), then their lines, whatever the
# optimiser's statistics say on a small or freshly loaded site. GROUP BY (customer, name) is the order the
# customer index (which ends with the primary key) yields the invoices in, so MariaDB groups as it reads,
# without a temporary table; MIN() of the invoice's one posting date keeps it out of the GROUP BY.
_INVOICE_FACTS = f"""
	SELECT STRAIGHT_JOIN si.customer, MIN(si.posting_date), SUM(sii.base_net_amount) AS revenue,
		SUM(sii.base_net_amount - {_LINE_COST}) AS margin
	FROM `tabSales Invoice` si
	JOIN `tabSales Invoice Item` sii ON sii.parent = si.name AND sii.parenttype = 'Sales Invoice'
	LEFT JOIN `tabItem` item ON item.name = sii.item_code
	WHERE si.docstatus = 1 AND si.company = %(company)s AND si.posting_date <= %(as_of)s
		AND si.posting_date >= %(since)s AND si.customer IN %(customers)s
	GROUP BY si.customer, si.name
"""

# One pass over the chunk's Payment Ledger rows: per invoice what is still open and what was paid (and
# how late), then per customer. Payments are Payment Entry / Journal Entry allocations (negative amounts).
_PAYMENTS = """
	SELECT customer,
		SUM(paid_days) / NULLIF(SUM(paid), 0) AS avg_days_to_pay,
		SUM(IF(overdue AND outstanding > 0, outstanding, 0)) AS overdue_amount
	FROM (
		SELECT ple.party AS customer, si.due_date < %(as_of)s AS overdue, SUM(ple.amount) AS outstanding,
			SUM(IF(ple.voucher_type IN ('Payment Entry', 'Journal Entry') AND ple.amount < 0, -ple.amount, 0))
				AS paid,
			SUM(IF(ple.voucher_type IN ('Payment Entry', 'Journal Entry') AND ple.amount < 0,
				-ple.amount * GREATEST(DATEDIFF(ple.posting_date, si.posting_date), 0), 0)) AS paid_days
		FROM `tabPayment Ledger Entry` ple
		JOIN `tabSales Invoice` si ON si.name = ple.against_voucher_no
		WHERE ple.party_type = 'Customer' AND ple.party IN %(customers)s AND ple.company = %(company)s
			AND ple.against_voucher_type = 'Sales Invoice' AND ple.delinked = 0
			AND ple.posting_date <= %(as_of)s AND si.docstatus = 1 AND si.is_return = 0
		GROUP BY ple.party, ple.against_voucher_no
	) per_invoice
	GROUP BY customer
	ORDER BY NULL
"""


def load_invoice_facts(
	customers: Sequence[str], company: str, as_of: date, since: date | None = None
) -> dict[str, list[InvoiceFact]]:
	"""``InvoiceFact(posting_date, revenue, margin)`` per submitted invoice, per customer (see module doc),
	posted on or before ``as_of`` and, when given, on or after ``since``."""
	facts: dict[str, list[InvoiceFact]] = defaultdict(list)
	if not customers:
		return facts
	params = {**_params(customers, company, as_of), "since": since or date.min}
	rows = frappe.db.sql(_INVOICE_FACTS, params, as_list=True)
	for customer, posting_date, revenue, margin in rows:
		facts[customer].append(InvoiceFact(posting_date, float(revenue or 0), float(margin or 0)))
	return facts


def load_payment_behaviour(
	customers: Sequence[str], company: str, as_of: date
) -> dict[str, PaymentBehaviour]:
	"""Average days to pay and overdue amount per customer that has either (see module doc)."""
	if not customers:
		return {}
	rows = frappe.db.sql(_PAYMENTS, _params(customers, company, as_of), as_list=True)
	return {
		customer: PaymentBehaviour(
			avg_days_to_pay=None if days is None else float(days), overdue_amount=float(overdue or 0)
		)
		for customer, days, overdue in rows
		if days is not None or overdue
	}


def load_purchase_dates(company: str, until: date) -> dict[str, set[date]]:
	"""Distinct purchase days (invoices that are not returns) per customer, for the backtest."""
	rows = frappe.db.sql(
		"""
		SELECT si.customer, si.posting_date FROM `tabSales Invoice` si
		WHERE si.docstatus = 1 AND si.is_return = 0 AND si.company = %(company)s
			AND si.posting_date <= %(until)s
		GROUP BY si.customer, si.posting_date
		""",
		{"company": company, "until": until},
		as_list=True,
	)
	dates: dict[str, set[date]] = defaultdict(set)
	for customer, posting_date in rows:
		dates[customer].add(posting_date)
	return dates


def _params(customers: Sequence[str], company: str, as_of: date) -> dict:
	return {"customers": tuple(customers), "company": company, "as_of": as_of}
