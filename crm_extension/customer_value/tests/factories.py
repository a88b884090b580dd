"""Real ERPNext sales, stock and payment documents for the customer-value tests (nothing mocked)."""

import random

import frappe
from frappe.utils import add_days, nowdate

from crm_extension.tests.factories import default_company, unique


def company_warehouse(company: str | None = None) -> str:
	company = company or default_company()
	return frappe.db.get_value(
		"Warehouse", {"company": company, "is_group": 0, "warehouse_name": "Stores"}
	) or frappe.db.get_value("Warehouse", {"company": company, "is_group": 0})


def leaf_item_group() -> str:
	return frappe.db.get_value("Item Group", {"is_group": 0}) or "All Item Groups"


def make_item(is_stock_item: bool = True, **values) -> str:
	return (
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": unique("CV Item"),
				"item_group": leaf_item_group(),
				"stock_uom": "Nos",
				"is_stock_item": int(is_stock_item),
				"valuation_method": "FIFO",
				**values,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def receive_stock(item_code: str, qty: float, rate: float, posting_date: str | None = None):
	"""A submitted Material Receipt into the company's Stores warehouse at `rate` per unit."""
	from erpnext.stock.doctype.stock_entry.stock_entry_utils import make_stock_entry

	return make_stock_entry(
		item_code=item_code,
		qty=qty,
		rate=rate,
		to_warehouse=company_warehouse(),
		company=default_company(),
		posting_date=posting_date,
	)


def make_invoice(
	customer: str,
	lines: list[tuple[str, float, float]],
	posting_date: str | None = None,
	update_stock: bool = False,
	due_date: str | None = None,
	submit: bool = True,
):
	"""A Sales Invoice of `(item_code, qty, rate)` lines in the default company."""
	posting_date = posting_date or nowdate()
	invoice = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": default_company(),
			"customer": customer,
			"set_posting_time": 1,
			"posting_date": posting_date,
			"due_date": due_date or posting_date,
			"update_stock": int(update_stock),
			"items": [
				{"item_code": item, "qty": qty, "rate": rate, "warehouse": company_warehouse()}
				for item, qty, rate in lines
			],
		}
	)
	invoice.insert(ignore_permissions=True)
	if submit:
		invoice.submit()
	return invoice


def make_return(invoice_name: str, qty: float, posting_date: str | None = None):
	"""A submitted credit note returning `qty` of the first line (with stock when the invoice had it)."""
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	credit_note = make_sales_return(invoice_name)
	credit_note.items = credit_note.items[:1]
	credit_note.items[0].qty = -abs(qty)
	credit_note.set_posting_time = 1
	credit_note.posting_date = posting_date or nowdate()
	credit_note.insert(ignore_permissions=True)
	credit_note.submit()
	return credit_note


def make_delivery(customer: str, item_code: str, qty: float, rate: float):
	"""A submitted Delivery Note (stock leaves at its valuation)."""
	note = frappe.get_doc(
		{
			"doctype": "Delivery Note",
			"company": default_company(),
			"customer": customer,
			"items": [{"item_code": item_code, "qty": qty, "rate": rate, "warehouse": company_warehouse()}],
		}
	)
	note.insert(ignore_permissions=True)
	note.submit()
	return note


def bill_delivery(delivery_note: str, qty: float):
	"""A submitted Sales Invoice billing `qty` of the delivery's first line."""
	from erpnext.stock.doctype.delivery_note.delivery_note import make_sales_invoice

	invoice = make_sales_invoice(delivery_note)
	invoice.items[0].qty = qty
	invoice.insert(ignore_permissions=True)
	invoice.submit()
	return invoice


def pay(invoice_name: str, posting_date: str, amount: float | None = None):
	"""A submitted Payment Entry allocating `amount` (default: the outstanding) to the invoice."""
	from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

	payment = get_payment_entry("Sales Invoice", invoice_name, party_amount=amount)
	payment.posting_date = posting_date
	payment.reference_no = unique("REF")
	payment.reference_date = posting_date
	payment.insert(ignore_permissions=True)
	payment.submit()
	return payment


def days_ago(days: int) -> str:
	return add_days(nowdate(), -days)


def simulated_purchase_days(customers: int, seed: int, days: int = 300) -> list[list[int]]:
	"""Purchase days (days ago) drawn from the BG/NBD story: a Poisson purchase rate ~ Gamma(2, 1/40) per
	day while active, dropping out after each purchase with a probability ~ Beta(1, 3). Seeded, so the
	fit on it is known to converge."""
	rng = random.Random(seed)
	result = []
	for _customer in range(customers):
		rate, dropout = rng.gammavariate(2.0, 1 / 40), rng.betavariate(1.0, 3.0)
		day = rng.randint(0, 120)
		purchases = [day]
		while True:
			day += max(1, round(rng.expovariate(rate)))
			if day >= days or rng.random() < dropout:
				break
			purchases.append(day)
		result.append(sorted({days - purchase for purchase in purchases}))
	return result
