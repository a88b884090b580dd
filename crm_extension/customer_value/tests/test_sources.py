from frappe.utils import getdate, nowdate

from crm_extension.customer_value.sources import load_invoice_facts, load_payment_behaviour
from crm_extension.customer_value.tests.factories import (
	bill_delivery,
	days_ago,
	make_delivery,
	make_invoice,
	make_item,
	make_return,
	pay,
	receive_stock,
)
from crm_extension.tests.factories import default_company, make_customer
from crm_extension.tests.utils import CRMTestCase


class TestInvoiceFacts(CRMTestCase):
	def setUp(self):
		self.customer = make_customer().name
		self.stock_item = make_item(is_stock_item=True)
		self.service = make_item(is_stock_item=False)
		receive_stock(self.stock_item, qty=20, rate=60)

	def facts(self, as_of=None):
		facts = load_invoice_facts([self.customer], default_company(), getdate(as_of or nowdate()))
		return sorted(
			(str(f.posting_date), round(f.revenue, 2), round(f.margin, 2)) for f in facts[self.customer]
		)

	def test_invoice_that_updates_stock_costs_the_stock_value_that_left(self):
		make_invoice(self.customer, [(self.stock_item, 3, 100)], update_stock=True)

		self.assertEqual(self.facts(), [(nowdate(), 300.0, 120.0)])

	def test_service_item_margin_is_the_net_amount(self):
		make_invoice(self.customer, [(self.service, 2, 50), (self.stock_item, 1, 100)], update_stock=True)

		self.assertEqual(self.facts(), [(nowdate(), 200.0, 140.0)])

	def test_delivery_note_behind_the_invoice_gives_the_cost_pro_rated_to_the_billed_quantity(self):
		note = make_delivery(self.customer, self.stock_item, qty=4, rate=100)
		bill_delivery(note.name, qty=2)

		self.assertEqual(self.facts(), [(nowdate(), 200.0, 80.0)])

	def test_undelivered_stock_item_is_costed_at_the_warehouse_valuation_rate(self):
		make_invoice(self.customer, [(self.stock_item, 2, 100)], update_stock=False)

		self.assertEqual(self.facts(), [(nowdate(), 200.0, 80.0)])

	def test_return_subtracts_revenue_and_margin(self):
		invoice = make_invoice(self.customer, [(self.stock_item, 3, 100)], update_stock=True)
		make_return(invoice.name, qty=1)

		self.assertEqual(self.facts(), sorted([(nowdate(), 300.0, 120.0), (nowdate(), -100.0, -40.0)]))

	def test_cancelled_and_draft_invoices_do_not_count(self):
		invoice = make_invoice(self.customer, [(self.service, 1, 500)])
		invoice.cancel()
		make_invoice(self.customer, [(self.service, 1, 700)], submit=False)

		self.assertEqual(self.facts(), [])

	def test_only_invoices_posted_on_or_before_as_of_count(self):
		make_invoice(self.customer, [(self.service, 1, 100)], posting_date=days_ago(20))
		make_invoice(self.customer, [(self.service, 1, 250)], posting_date=days_ago(5))

		self.assertEqual(self.facts(as_of=days_ago(10)), [(days_ago(20), 100.0, 100.0)])

	def test_other_companies_do_not_count(self):
		make_invoice(self.customer, [(self.service, 1, 100)])

		facts = load_invoice_facts([self.customer], "No Such Company", getdate(nowdate()))
		self.assertEqual(facts.get(self.customer, []), [])


class TestPaymentBehaviour(CRMTestCase):
	def setUp(self):
		self.customer = make_customer().name
		self.service = make_item(is_stock_item=False)

	def behaviour(self, as_of=None):
		return load_payment_behaviour([self.customer], default_company(), getdate(as_of or nowdate()))

	def test_days_to_pay_are_weighted_by_the_amount_paid(self):
		first = make_invoice(self.customer, [(self.service, 1, 100)], posting_date=days_ago(40))
		second = make_invoice(self.customer, [(self.service, 1, 300)], posting_date=days_ago(30))
		pay(first.name, posting_date=days_ago(30))  # 10 days for 100
		pay(second.name, posting_date=days_ago(10))  # 20 days for 300

		behaviour = self.behaviour()[self.customer]
		self.assertAlmostEqual(behaviour.avg_days_to_pay, (10 * 100 + 20 * 300) / 400)
		self.assertEqual(behaviour.overdue_amount, 0)

	def test_unpaid_invoice_past_its_due_date_is_overdue(self):
		make_invoice(
			self.customer, [(self.service, 1, 400)], posting_date=days_ago(30), due_date=days_ago(15)
		)
		make_invoice(
			self.customer, [(self.service, 1, 900)], posting_date=days_ago(3), due_date=days_ago(-20)
		)

		behaviour = self.behaviour()[self.customer]
		self.assertIsNone(behaviour.avg_days_to_pay)
		self.assertEqual(behaviour.overdue_amount, 400)

	def test_overdue_is_measured_as_of_the_date_asked(self):
		invoice = make_invoice(
			self.customer, [(self.service, 1, 400)], posting_date=days_ago(30), due_date=days_ago(15)
		)
		pay(invoice.name, posting_date=days_ago(5))

		self.assertEqual(self.behaviour(as_of=days_ago(10))[self.customer].overdue_amount, 400)
		self.assertEqual(self.behaviour().get(self.customer).overdue_amount, 0)
