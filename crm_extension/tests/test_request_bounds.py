"""Web requests do bounded work: training is queued, the playbook guide reads learned win rates instead of
every closed Opportunity, the Customer chart reads the months it draws, the timeline's offset is bounded."""

from unittest.mock import patch

import frappe
from frappe.utils import add_months, get_first_day, nowdate

from crm_extension.api import activity as activity_api
from crm_extension.api import customer_value as customer_value_api
from crm_extension.api import lead_scoring as lead_scoring_api
from crm_extension.api import playbook as playbook_api
from crm_extension.customer_value.tests.factories import make_invoice, make_item
from crm_extension.sales_playbook import guide as playbook_guide
from crm_extension.sales_playbook.tests.factories import (
	make_opportunity_type,
	make_playbook,
	make_playbook_opportunity,
	reset_caches,
)
from crm_extension.tests.factories import make_customer, make_lead
from crm_extension.tests.utils import CRMTestCase


class TestRequestBounds(CRMTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_training_from_the_desk_is_queued_and_answers_with_its_job_id(self):
		with (
			patch("crm_extension.lead_scoring.training.train", side_effect=AssertionError("trained inline")),
			patch("crm_extension.lead_scoring.jobs.frappe.enqueue") as enqueue,
		):
			answer = lead_scoring_api.train()

		self.assertIn("crm_extension_lead_training", answer["job_id"])
		self.assertEqual(enqueue.call_args.kwargs["queue"], "long")

	def test_the_training_job_publishes_its_progress_and_rescores_after(self):
		from crm_extension.lead_scoring import jobs

		with (
			patch("crm_extension.lead_scoring.training.frappe.publish_progress") as progress,
			patch.object(jobs, "queue_full_rescore") as rescore,
		):
			summary = jobs.train_and_rescore()

		self.assertIn("status", summary)
		self.assertEqual(progress.call_args.args[0], 100)
		rescore.assert_called_once()

	def test_the_guide_answers_from_stored_win_rates_without_reading_closed_deals(self):
		reset_caches()
		opportunity_type = make_opportunity_type()
		make_playbook(opportunity_type=opportunity_type)
		opportunity = make_playbook_opportunity(opportunity_type=opportunity_type, buyer_persona="Analytical")
		playbook_guide.refresh_win_rates()
		# the cache of a previous request has expired
		frappe.cache.delete_value(playbook_guide.WIN_RATES_KEY)
		frappe.local.crm_playbook_win_rates = None

		with patch.object(playbook_guide, "closed_deals", side_effect=AssertionError("read closed deals")):
			guide = playbook_api.guide(opportunity.name)

		self.assertTrue(guide["recommended_technique"])
		reset_caches()

	def test_the_customer_chart_reads_only_the_months_it_draws(self):
		service = make_item(is_stock_item=False)
		customer = make_customer().name
		first_month = get_first_day(add_months(nowdate(), -11))
		make_fiscal_year_of(add_months(first_month, -1))
		make_invoice(customer, [(service, 1, 700)], posting_date=str(add_months(first_month, -1)))
		make_invoice(customer, [(service, 1, 300)], posting_date=nowdate())
		read = []
		load = customer_value_api.load_invoice_facts

		def counting_load(*args, **kwargs):
			facts = load(*args, **kwargs)
			read.extend(facts.get(customer, []))
			return facts

		with patch.object(customer_value_api, "load_invoice_facts", side_effect=counting_load):
			chart = customer_value_api.purchases_by_month(customer)

		self.assertEqual(sum(month["revenue"] for month in chart), 300)
		self.assertEqual(len(read), 1)

	def test_the_timeline_refuses_an_offset_beyond_its_bound(self):
		lead = make_lead().name
		self.assertEqual(activity_api.timeline("Lead", lead, start=activity_api.MAX_TIMELINE_START), [])
		with self.assertRaises(frappe.ValidationError) as raised:
			activity_api.timeline("Lead", lead, start=10**9)
		self.assertIn(str(activity_api.MAX_TIMELINE_START), str(raised.exception))


def make_fiscal_year_of(day):
	year = str(day.year)
	if not frappe.db.exists("Fiscal Year", {"year_start_date": ("<=", day), "year_end_date": (">=", day)}):
		frappe.get_doc(
			{
				"doctype": "Fiscal Year",
				"year": year,
				"year_start_date": f"{year}-01-01",
				"year_end_date": f"{year}-12-31",
			}
		).insert(ignore_permissions=True)


class TestLearnedWinRatesOnUninstall(CRMTestCase):
	def test_uninstall_deletes_the_stored_win_rates(self):
		from crm_extension.setup.uninstall import delete_learned_win_rates

		playbook_guide.refresh_win_rates()
		self.assertTrue(frappe.db.get_global(playbook_guide.WIN_RATES_GLOBAL))

		delete_learned_win_rates()

		self.assertFalse(frappe.db.get_global(playbook_guide.WIN_RATES_GLOBAL))
		playbook_guide.clear_win_rates()
