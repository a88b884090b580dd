"""What customers bought and paid, in date order (stock and ledgers need it): Sales Orders (from the won
Quotation for a first order), Delivery Notes, submitted Sales Invoices, and Payment Entries days or weeks
later, each made with ERPNext's own mappings and posted on its date."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import frappe

from crm_extension.demo.catalog import receive_stock
from crm_extension.demo.plan import Order
from crm_extension.demo.profiles import Profile
from crm_extension.demo.texts import ITEMS

PAYMENT_TERM_DAYS = 30


@dataclass
class Purchase:
	"""An Order of a customer, with the won Quotation it follows, if any."""

	customer: str
	order: Order
	quotation: str | None = None


@dataclass
class SalesCounts:
	stock_entries: int = 0
	sales_orders: int = 0
	delivery_notes: int = 0
	sales_invoices: int = 0
	payment_entries: int = 0
	unpaid_invoices: int = 0
	payments: list = field(default_factory=list)


def stock_plan(purchases: list[Purchase], first_day: date, today: date) -> list[tuple[date, Counter, float]]:
	"""Two Material Receipts: one before the first sale for the first half of the history, one halfway at a
	higher cost (prices rise); each a fifth more than what sells in its half."""
	middle = first_day + (today - first_day) / 2
	halves = (Counter(), Counter())
	for purchase in purchases:
		for item, qty in purchase.order.lines:
			halves[purchase.order.on >= middle][ITEMS[item][0]] += qty
	return [
		(first_day - timedelta(days=1), _with_margin(halves[0]), 1.0),
		(middle - timedelta(days=1), _with_margin(halves[1]), 1.08),
	]


def _with_margin(quantities: Counter) -> Counter:
	return Counter({code: int(qty * 1.2) + 5 for code, qty in quantities.items()})


def sell(purchases: list[Purchase], profile: Profile, first_day: date, today: date, progress) -> SalesCounts:
	counts = SalesCounts()
	receipts = stock_plan(purchases, first_day, today)
	events = [(on, 0, ("receipt", quantities, cost)) for on, quantities, cost in receipts if quantities]
	events += [(purchase.order.on, 1, ("sale", purchase)) for purchase in purchases]
	for number, (_on, _order, event) in enumerate(sorted(events, key=lambda e: (e[0], e[1])), start=1):
		if event[0] == "receipt":
			receive_stock(profile, _on, event[1], event[2])
			counts.stock_entries += 1
		else:
			_sale(event[1], profile, counts)
		if number % 50 == 0:
			progress(f"{number} of {len(events)} sales and receipts")
	for number, (paid_on, invoice) in enumerate(sorted(counts.payments), start=1):
		_pay(invoice, paid_on)
		counts.payment_entries += 1
		if number % 50 == 0:
			progress(f"{number} of {len(counts.payments)} payments")
	return counts


def _sale(purchase: Purchase, profile: Profile, counts: SalesCounts):
	order = purchase.order
	if purchase.quotation or order.via_sales_order:
		sales_order = _sales_order(purchase, profile)
		counts.sales_orders += 1
		delivery = _deliver(sales_order, order.on + timedelta(days=1))
		counts.delivery_notes += 1
		invoice = _invoice_delivery(delivery, order.on + timedelta(days=1))
	else:
		invoice = _invoice_with_stock(purchase, profile)
	counts.sales_invoices += 1
	if order.paid_after is None:
		counts.unpaid_invoices += 1
	else:
		counts.payments.append((order.on + timedelta(days=1 + order.paid_after), invoice))


def _sales_order(purchase: Purchase, profile: Profile) -> str:
	order = purchase.order
	if purchase.quotation:
		from erpnext.selling.doctype.quotation.quotation import make_sales_order

		doc = make_sales_order(purchase.quotation)
	else:
		doc = frappe.get_doc(
			{"doctype": "Sales Order", "customer": purchase.customer, "items": _lines(order, profile)}
		)
	doc.update(
		{
			"company": profile.company,
			"transaction_date": order.on,
			"delivery_date": order.on + timedelta(days=3),
			"currency": profile.currency,
			"selling_price_list": "Standard Selling",
		}
	)
	doc.set("payment_schedule", [])  # made again from the order's date (the quotation's was dated by it)
	for row in doc.items:
		row.delivery_date = doc.delivery_date
		row.warehouse = _warehouse(profile)
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def _deliver(sales_order: str, on: date) -> str:
	from erpnext.selling.doctype.sales_order.sales_order import make_delivery_note

	doc = make_delivery_note(sales_order)
	_post_on(doc, on)
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def _invoice_delivery(delivery: str, on: date) -> str:
	from erpnext.stock.doctype.delivery_note.delivery_note import make_sales_invoice

	doc = make_sales_invoice(delivery)
	_post_on(doc, on)
	doc.due_date = on + timedelta(days=PAYMENT_TERM_DAYS)
	doc.set("payment_schedule", [])  # made again from the due date (the order's was dated by the order)
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def _invoice_with_stock(purchase: Purchase, profile: Profile) -> str:
	"""A repeat order invoiced and delivered at once (the invoice updates stock, as a counter sale does)."""
	on = purchase.order.on
	doc = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"customer": purchase.customer,
			"company": profile.company,
			"currency": profile.currency,
			"selling_price_list": "Standard Selling",
			"update_stock": 1,
			"set_warehouse": _warehouse(profile),
			"items": _lines(purchase.order, profile),
		}
	)
	_post_on(doc, on)
	doc.due_date = on + timedelta(days=PAYMENT_TERM_DAYS)
	doc.insert(ignore_permissions=True)
	doc.submit()
	return doc.name


def _pay(invoice: str, on: date):
	from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

	entry = get_payment_entry("Sales Invoice", invoice)
	entry.update({"posting_date": on, "reference_no": f"DEMO-{invoice}", "reference_date": on})
	entry.insert(ignore_permissions=True)
	entry.submit()


def _lines(order: Order, profile: Profile) -> list[dict]:
	return [
		{
			"item_code": ITEMS[item][0],
			"qty": qty,
			"rate": ITEMS[item][4] * profile.price_factor,
			"warehouse": _warehouse(profile),
			"delivery_date": order.on + timedelta(days=3),
		}
		for item, qty in order.lines
	]


def _post_on(doc, on: date):
	doc.set_posting_time = 1
	doc.posting_date = on
	doc.posting_time = "11:00:00"


def _warehouse(profile: Profile) -> str:
	from crm_extension.demo.catalog import warehouse

	return warehouse(profile)
