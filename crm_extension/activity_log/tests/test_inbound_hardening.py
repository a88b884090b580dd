"""The webhook under hostile or odd input: probing, floods, configuration errors, senders the phone library
calls invalid, and how it answers errors."""

import json
from unittest.mock import patch

import frappe
from frappe.utils import set_request

from crm_extension.activity_log.tests import test_inbound_webhook as webhook_tests
from crm_extension.api import inbound
from crm_extension.tests.factories import make_inbound_source, make_lead
from crm_extension.tests.utils import CRMTestCase


class TestInboundHardening(CRMTestCase):
	deliver = webhook_tests.TestInboundWebhook.deliver
	message = webhook_tests.TestInboundWebhook.message
	count_webhook_activities = webhook_tests.TestInboundWebhook.count_webhook_activities

	def setUp(self):
		self.secret = "gateway-secret-" + frappe.generate_hash(length=8)
		self.source = make_inbound_source(secret=self.secret, channel="SMS")
		frappe.local.request_ip = f"198.51.100.{frappe.utils.cint(frappe.generate_hash(length=2), 16) % 250}"
		frappe.set_user("Guest")

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.local.request = None
		frappe.local.request_ip = None

	def refusal(self, exception, **delivery) -> str:
		with self.assertRaises(exception) as raised:
			self.deliver(self.message(webhook_tests.random_mobile()), **delivery)
		return str(raised.exception)

	def test_unknown_and_disabled_sources_get_the_same_401_as_a_bad_signature(self):
		bad_signature = self.refusal(frappe.AuthenticationError, secret="not-the-secret")
		unknown = self.refusal(frappe.AuthenticationError, source="No Such Gateway")
		frappe.db.set_value("CRM Inbound Source", self.source.name, "enabled", 0)
		disabled = self.refusal(frappe.AuthenticationError)

		self.assertEqual({bad_signature, unknown, disabled}, {bad_signature})
		self.assertEqual(self.count_webhook_activities(), 0)

	def test_a_client_over_its_rate_limit_is_answered_429_with_nothing_written(self):
		with patch.dict(frappe.local.conf, {"crm_inbound_client_rate_limit": 2}):
			self.deliver(self.message(webhook_tests.random_mobile()))
			self.deliver(self.message(webhook_tests.random_mobile()))
			self.refusal(frappe.RateLimitExceededError)
			self.refusal(frappe.RateLimitExceededError, secret="not-the-secret")

		self.assertEqual(frappe.RateLimitExceededError.http_status_code, 429)
		self.assertEqual(self.count_webhook_activities(), 2)

	def test_a_source_over_its_rate_limit_is_answered_429_with_nothing_written(self):
		frappe.db.set_value("CRM Inbound Source", self.source.name, "rate_limit_per_minute", 2)
		for address in ("198.51.100.1", "198.51.100.2"):
			frappe.local.request_ip = address
			self.deliver(self.message(webhook_tests.random_mobile()))
		frappe.local.request_ip = "198.51.100.3"
		self.refusal(frappe.RateLimitExceededError)

		self.assertEqual(self.count_webhook_activities(), 2)

	def test_a_missing_secret_is_a_logged_server_error_500(self):
		frappe.db.delete("__Auth", {"doctype": "CRM Inbound Source", "name": self.source.name})
		with patch("crm_extension.api.inbound.frappe.log_error") as log_error:
			with self.assertRaises(frappe.ValidationError) as raised:
				self.deliver(self.message(webhook_tests.random_mobile()))

		self.assertEqual(raised.exception.http_status_code, 500)
		self.assertIn(self.source.name, str(log_error.call_args))
		self.assertEqual(self.count_webhook_activities(), 0)

	def test_the_sender_lookup_uses_at_most_three_index_lookups(self):
		from crm_extension.activity_log.senders import find_party

		mobile = webhook_tests.random_mobile()
		lead = make_lead(mobile_no="0" + mobile[3:])
		queries = []
		real_sql = frappe.db.sql

		def recording_sql(query, values=(), *args, **kwargs):
			queries.append((query, values))
			return real_sql(query, values, *args, **kwargs)

		with patch.object(frappe.db, "sql", recording_sql):
			party = find_party("phone", mobile, "IR")

		self.assertIn(party[0], ("Lead", "Contact"))
		if party[0] == "Lead":
			self.assertEqual(party[1], lead.name)
		self.assertLessEqual(len(queries), 3)
		for query, values in queries:
			for row in frappe.db.sql(f"explain {query}", values, as_dict=True):
				self.assertNotEqual(row.type, "ALL", f"full scan of {row.table}: {query}")
				self.assertTrue(row.key, f"no index on {row.table}: {query}")

	def test_a_short_code_is_stored_on_one_lead_named_by_its_raw_address(self):
		first = self.deliver(self.message("30001234"))
		second = self.deliver(self.message("30001234"))

		references = {
			tuple(frappe.db.get_value("CRM Activity", name, ["reference_doctype", "reference_name"]))
			for name in (first, second)
		}
		self.assertEqual(len(references), 1)
		doctype, lead = references.pop()
		self.assertEqual(doctype, "Lead")
		self.assertEqual(frappe.db.get_value("Lead", lead, "lead_name"), "30001234")

	def test_senders_the_phone_library_calls_invalid_wait_for_triage_when_no_lead_is_made(self):
		frappe.db.set_value("CRM Inbound Source", self.source.name, "create_lead_for_unknown", 0)
		names = [
			self.deliver(self.message(sender))
			for sender in ("MyBank", "+1 555 0100", webhook_tests.random_mobile())
		]

		rows = frappe.get_all(
			"CRM Activity",
			{"name": ("in", names)},
			["unmatched", "reference_doctype", "reference_name", "from_address"],
		)
		self.assertEqual(len(rows), 3)
		for row in rows:
			self.assertEqual((row.unmatched, row.reference_doctype, row.reference_name), (1, None, None))

	def test_an_unmatched_activity_can_be_attached_to_a_party_later(self):
		frappe.db.set_value("CRM Inbound Source", self.source.name, "create_lead_for_unknown", 0)
		name = self.deliver(self.message("MyBank"))
		frappe.set_user("Administrator")
		lead = make_lead()

		from crm_extension.api.activity import attach_unmatched

		attach_unmatched(name, "Lead", lead.name)

		row = frappe.db.get_value(
			"CRM Activity", name, ["unmatched", "reference_doctype", "reference_name"], as_dict=True
		)
		self.assertEqual((row.unmatched, row.reference_doctype, row.reference_name), (0, "Lead", lead.name))

	def test_an_unexpected_error_is_answered_with_a_short_reason_and_no_traceback(self):
		from frappe.app import handle_exception

		frappe.db.set_single_value("System Settings", "allow_error_traceback", 1)
		response = None
		with patch.object(inbound, "record_message", side_effect=KeyError("boom")):
			try:
				self.deliver(self.message(webhook_tests.random_mobile()))
			except Exception as error:
				frappe.local.response = frappe._dict()
				response = handle_exception(error)

		body = json.loads(response.get_data())
		self.assertEqual(response.status_code, 500)
		self.assertNotIn("Traceback", response.get_data(as_text=True))
		self.assertNotIn("boom", response.get_data(as_text=True))
		self.assertTrue(json.loads(body["_server_messages"]))

	def test_an_oversized_body_is_answered_413(self):
		body = b"{" + b" " * (70 * 1024) + b"}"
		set_request(
			method="POST",
			path="/api/method/crm_extension.api.inbound.receive",
			data=body,
			headers={"X-CRM-Source": self.source.name},
		)
		with self.assertRaises(frappe.ValidationError) as raised:
			inbound.receive()
		self.assertEqual(raised.exception.http_status_code, 413)
