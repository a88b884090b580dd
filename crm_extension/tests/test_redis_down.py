"""Redis down while a salesperson works: saving a Lead and logging an activity still succeed, the refresh that
could not be queued is logged once (not once per save), and the nightly rescore catches the Lead up.

Redis is made unreachable for real: the site's queue and cache point at a loopback port nothing listens on,
so the real redis client meets a refused connection, as it does when the server is down."""

import socket
from contextlib import contextmanager

import frappe
from frappe.utils import background_jobs
from frappe.utils.redis_wrapper import RedisWrapper

from crm_extension import refresh_queue
from crm_extension.api.activity import log as log_activity
from crm_extension.lead_scoring.jobs import open_leads_after, score_chunk
from crm_extension.tests.factories import make_lead
from crm_extension.tests.utils import CommittingTestCase


def closed_port() -> int:
	with socket.socket() as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


@contextmanager
def redis_down():
	url = f"redis://127.0.0.1:{closed_port()}"
	conf, cache = frappe.local.conf, frappe.cache
	saved = conf.redis_queue, conf.redis_cache, background_jobs._redis_queue_conn
	conf.redis_queue, conf.redis_cache, background_jobs._redis_queue_conn = url, url, None
	frappe.cache = RedisWrapper.from_url(url)
	try:
		yield
	finally:
		conf.redis_queue, conf.redis_cache, background_jobs._redis_queue_conn = saved
		frappe.cache = cache


class TestRedisDown(CommittingTestCase):
	def setUp(self):
		super().setUp()
		refresh_queue.reset_unavailable_report()

	def test_saves_and_activity_logs_succeed_and_the_failure_is_logged_once(self):
		lead = make_lead()
		frappe.db.commit()
		with self.assertLogs(frappe.logger("crm_extension"), level="ERROR") as logged, redis_down():
			for n in range(3):
				lead.reload()
				lead.company_name = f"Saved while Redis was down {n}"
				lead.save(ignore_permissions=True)
				frappe.db.commit()
			activity = log_activity("Lead", lead.name, "WhatsApp", "Inbound", subject="Yes, send the offer")
			frappe.db.commit()

		self.assertTrue(frappe.db.exists("CRM Activity", activity))
		self.assertEqual(
			frappe.db.get_value("Lead", lead.name, "company_name"), "Saved while Redis was down 2"
		)
		self.assertEqual(len(logged.records), 1, [record.getMessage() for record in logged.records])
		self.assertIn("could not be queued", logged.records[0].getMessage())

	def test_the_nightly_rescore_catches_up_a_lead_whose_refresh_was_missed(self):
		# made while Redis is down too, so that no scoring job of its own exists for a worker to run
		with self.assertLogs(frappe.logger("crm_extension"), level="ERROR"), redis_down():
			lead = make_lead()
			frappe.db.commit()
			log_activity("Lead", lead.name, "WhatsApp", "Inbound", subject="Call me tomorrow")
			frappe.db.commit()
		self.assertIsNone(frappe.db.get_value("Lead", lead.name, "score_updated_on"))

		self.assertIn(lead.name, open_leads_after("", None))  # the nightly run walks every open Lead
		score_chunk([lead.name])
		frappe.db.commit()

		self.assertIsNotNone(frappe.db.get_value("Lead", lead.name, "score_updated_on"))
