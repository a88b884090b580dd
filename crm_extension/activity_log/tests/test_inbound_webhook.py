import json
import random
import time

import frappe
from frappe.utils import set_request

from crm_extension.activity_log.engine.payload import sign
from crm_extension.api import activity as activity_api
from crm_extension.api import inbound
from crm_extension.api.errors import PayloadTooLargeError
from crm_extension.tests.factories import make_contact, make_customer, make_inbound_source, make_lead
from crm_extension.tests.utils import CRMTestCase

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def random_mobile() -> str:
	"""A valid Iranian mobile number in E.164 form, new on every run.

	Contacts and Leads with phone numbers are committed by ERPNext itself (Call Log linking), so fixed
	numbers would collide with earlier runs.
	"""
	return "+98912" + "".join(random.choice("0123456789") for _ in range(7))


class TestInboundWebhook(CRMTestCase):
	def setUp(self):
		self.secret = "gateway-secret-" + frappe.generate_hash(length=8)
		self.source = make_inbound_source(secret=self.secret, channel="SMS")
		frappe.set_user("Guest")

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.local.request = None

	def deliver(self, message: dict, *, secret=None, timestamp=None, source=None, signature=None):
		body = json.dumps(message).encode()
		timestamp = str(timestamp if timestamp is not None else int(time.time()))
		headers = {
			"X-CRM-Source": source or self.source.name,
			"X-CRM-Timestamp": timestamp,
			"X-CRM-Signature": signature or sign(secret or self.secret, timestamp, body),
		}
		set_request(
			method="POST", path="/api/method/crm_extension.api.inbound.receive", data=body, headers=headers
		)
		return inbound.receive()["activity"]

	def message(self, sender: str, external_id: str | None = None, **values) -> dict:
		return {
			"external_id": external_id or frappe.generate_hash(length=12),
			"direction": "Inbound",
			"from": sender,
			"to": "+982100000000",
			"text": "سلام، قیمت محصول را بفرستید",
			"sent_at": "2024-05-01T10:00:00Z",
			**values,
		}

	def count_webhook_activities(self):
		return frappe.db.count("CRM Activity", {"inbound_source": self.source.name})

	def test_message_from_a_known_contact_is_logged_against_the_contact(self):
		customer = make_customer()
		mobile = random_mobile()
		local = "0" + mobile[3:]
		contact = make_contact([("Customer", customer.name)], phone=f"{local[:4]} {local[4:7]} {local[7:]}")

		name = self.deliver(self.message(mobile))

		activity = frappe.get_doc("CRM Activity", name)
		self.assertEqual((activity.reference_doctype, activity.reference_name), ("Contact", contact.name))
		self.assertEqual(activity.channel, "SMS")
		self.assertEqual(activity.direction, "Inbound")
		self.assertEqual(activity.source, "Webhook")

	def test_persian_digits_in_the_sender_reach_the_leads_timeline(self):
		mobile = random_mobile()
		lead = make_lead(mobile_no=f"+98 {mobile[3:6]} {mobile[6:9]} {mobile[9:]}")

		name = self.deliver(self.message(("0" + mobile[3:]).translate(PERSIAN_DIGITS)))

		# ERPNext gives every Lead a Contact with its numbers; the message lands on that Contact,
		# which the Lead's timeline follows.
		reference = frappe.db.get_value("CRM Activity", name, ["reference_doctype", "reference_name"])
		self.assertEqual(reference[0], "Contact")
		self.assertTrue(
			frappe.db.exists(
				"Dynamic Link", {"parent": reference[1], "link_doctype": "Lead", "link_name": lead.name}
			)
		)
		frappe.set_user("Administrator")
		timeline = activity_api.timeline("Lead", lead.name)
		self.assertIn(name, [item["source_name"] for item in timeline])

	def test_unknown_sender_creates_a_lead(self):
		mobile = random_mobile()
		name = self.deliver(self.message(mobile))

		reference = frappe.db.get_value("CRM Activity", name, ["reference_doctype", "reference_name"])
		self.assertEqual(reference[0], "Lead")
		self.assertEqual(frappe.db.get_value("Lead", reference[1], "mobile_no"), mobile)

	def test_unknown_sender_is_kept_unmatched_when_the_source_does_not_create_leads(self):
		frappe.db.set_value("CRM Inbound Source", self.source.name, "create_lead_for_unknown", 0)
		mobile = random_mobile()
		name = self.deliver(self.message(mobile))
		self.assertEqual(frappe.db.get_value("CRM Activity", name, "unmatched"), 1)
		self.assertEqual(frappe.db.count("Lead", {"mobile_no": mobile}), 0)

	def test_redelivery_returns_the_first_activity(self):
		mobile = random_mobile()
		message = self.message(mobile, external_id="sms-42")

		first = self.deliver(message)
		second = self.deliver(message)

		self.assertEqual(first, second)
		self.assertEqual(self.count_webhook_activities(), 1)
		self.assertEqual(frappe.db.count("Lead", {"mobile_no": mobile}), 1)

	def test_wrong_signature_is_refused_with_nothing_written(self):
		mobile = random_mobile()
		with self.assertRaises(frappe.AuthenticationError):
			self.deliver(self.message(mobile), secret="not-the-secret")
		self.assertEqual(self.count_webhook_activities(), 0)
		self.assertEqual(frappe.db.count("Lead", {"mobile_no": mobile}), 0)

	def test_unsigned_request_is_refused(self):
		with self.assertRaises(frappe.AuthenticationError):
			self.deliver(self.message(random_mobile()), signature=" ")
		self.assertEqual(self.count_webhook_activities(), 0)

	def test_stale_request_is_refused(self):
		with self.assertRaises(frappe.AuthenticationError):
			self.deliver(self.message(random_mobile()), timestamp=int(time.time()) - 3600)
		self.assertEqual(self.count_webhook_activities(), 0)

	def test_unknown_or_disabled_source_is_not_authenticated(self):
		with self.assertRaises(frappe.AuthenticationError):
			self.deliver(self.message(random_mobile()), source="No Such Gateway")
		frappe.db.set_value("CRM Inbound Source", self.source.name, "enabled", 0)
		with self.assertRaises(frappe.AuthenticationError):
			self.deliver(self.message(random_mobile()))
		self.assertEqual(self.count_webhook_activities(), 0)

	def test_malformed_body_names_the_missing_field(self):
		message = self.message(random_mobile())
		del message["sent_at"]
		with self.assertRaises(frappe.ValidationError) as raised:
			self.deliver(message)
		self.assertIn("sent_at", str(raised.exception))

	def test_oversized_body_is_refused(self):
		with self.assertRaises(PayloadTooLargeError):
			self.deliver(self.message(random_mobile(), text="x" * 70_000))
		self.assertEqual(self.count_webhook_activities(), 0)
