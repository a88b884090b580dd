"""Paths that only run at a real commit: the jobs queued after commit and the inbound sender lock."""

import hashlib
import json
import time
from unittest.mock import patch

import frappe
from frappe.database import get_db
from frappe.utils import now_datetime, set_request

from crm_extension.activity_log.engine.payload import sign
from crm_extension.api import inbound
from crm_extension.api.errors import RetryLaterError
from crm_extension.tests.factories import make_inbound_source, make_lead
from crm_extension.tests.utils import CommittingTestCase, purge_site_jobs, site_jobs


def log_activity(lead: str, **values):
	return frappe.get_doc(
		{
			"doctype": "CRM Activity",
			"channel": "SMS",
			"direction": "Inbound",
			"activity_at": now_datetime(),
			"reference_doctype": "Lead",
			"reference_name": lead,
			"source": "Manual",
			**values,
		}
	).insert(ignore_permissions=True)


def queued_jobs_about(lead: str) -> list[str]:
	return [job.kwargs["method"] for job in site_jobs("short") + site_jobs("long") if lead in str(job.kwargs)]


def second_connection():
	return get_db(
		host=frappe.conf.db_host,
		port=frappe.conf.db_port,
		user=frappe.conf.db_name,
		password=frappe.conf.db_password,
		cur_db_name=frappe.conf.db_name,
	)


class TestCommittedPaths(CommittingTestCase):
	def test_logging_an_activity_queues_the_leads_rescoring_and_refresh_only_at_commit(self):
		lead = make_lead().name
		frappe.db.commit()
		purge_site_jobs()

		log_activity(lead)
		self.assertEqual(queued_jobs_about(lead), [])
		frappe.db.commit()

		self.assertCountEqual(
			queued_jobs_about(lead),
			[
				"crm_extension.lead_scoring.jobs.score_one",
				"crm_extension.activity_log.refresh.refresh_preferred_channel",
			],
		)

	def test_a_rolled_back_activity_queues_nothing(self):
		lead = make_lead().name
		frappe.db.commit()
		purge_site_jobs()

		log_activity(lead)
		frappe.db.rollback()

		self.assertEqual(queued_jobs_about(lead), [])
		self.assertFalse(frappe.db.exists("CRM Activity", {"reference_name": lead}))

	def test_the_inbound_sender_lock_outlives_a_commit_in_the_middle_of_the_request(self):
		source = make_inbound_source(secret="lock-secret")
		frappe.db.commit()
		lock = "crm_inbound_" + hashlib.sha1(f"{source.name}:+989121110000".encode()).hexdigest()
		other = second_connection()
		try:
			deliver(source.name, "lock-secret", "+989121110000")
			frappe.db.commit()  # what ERPNext does when it links a new Contact to past calls

			self.assertEqual(other.sql("select get_lock(%s, 0)", lock)[0][0], 0)
		finally:
			frappe.db.sql("select release_lock(%s)", lock)
			other.close()
		frappe.set_user("Administrator")
		frappe.local.request = None

	def test_a_delivery_waits_for_the_senders_lock_and_asks_to_retry_with_nothing_written(self):
		source = make_inbound_source(secret="lock-secret")
		frappe.db.commit()
		lock = "crm_inbound_" + hashlib.sha1(f"{source.name}:+989121110001".encode()).hexdigest()
		other = second_connection()
		try:
			self.assertEqual(other.sql("select get_lock(%s, 0)", lock)[0][0], 1)
			with patch.object(inbound, "LOCK_TIMEOUT_SECONDS", 1), self.assertRaises(RetryLaterError):
				deliver(source.name, "lock-secret", "+989121110001")
		finally:
			other.sql("select release_lock(%s)", lock)
			other.close()
		frappe.set_user("Administrator")
		frappe.local.request = None
		frappe.db.rollback()
		self.assertEqual(frappe.db.count("CRM Activity", {"inbound_source": source.name}), 0)


def deliver(source: str, secret: str, sender: str) -> str:
	body = json.dumps(
		{
			"external_id": frappe.generate_hash(length=12),
			"direction": "Inbound",
			"from": sender,
			"to": "+982100000000",
			"text": "hello",
			"sent_at": "2024-05-01T10:00:00Z",
		}
	).encode()
	timestamp = str(int(time.time()))
	frappe.set_user("Guest")
	set_request(
		method="POST",
		path="/api/method/crm_extension.api.inbound.receive",
		data=body,
		headers={
			"X-CRM-Source": source,
			"X-CRM-Timestamp": timestamp,
			"X-CRM-Signature": sign(secret, timestamp, body),
		},
	)
	return inbound.receive()["activity"]
