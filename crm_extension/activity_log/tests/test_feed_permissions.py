"""The feed's Communication, Comment and CRM Note branches follow the host's permission rules for those
DocTypes, and sharing a document with a user reaches their feed at once."""

import frappe
from frappe.custom.doctype.property_setter.property_setter import make_property_setter

from crm_extension.api import activity as activity_api
from crm_extension.tests.factories import (
	hours_ago,
	make_activity,
	make_customer,
	make_lead,
	make_user,
	restrict_user_to,
)
from crm_extension.tests.utils import CRMTestCase


def feed_sources(doctype: str, name: str) -> set[tuple[str, str]]:
	items = activity_api.timeline(doctype, name, page_length=100)
	return {(item["source_doctype"], str(item["source_name"])) for item in items}


def give_email_account(user: str, email_account: str):
	"""A User Email row, as User > Settings > Email adds it (the account need not exist for the rule)."""
	frappe.get_doc(
		{
			"doctype": "User Email",
			"parent": user,
			"parenttype": "User",
			"parentfield": "user_emails",
			"email_account": email_account,
		}
	).db_insert()
	frappe.clear_cache(user=user)


class TestFeedPermissions(CRMTestCase):
	def setUp(self):
		self.lead = make_lead()

	def tearDown(self):
		frappe.set_user("Administrator")

	def email(self, email_account: str | None = None) -> str:
		name = (
			frappe.get_doc(
				{
					"doctype": "Communication",
					"communication_type": "Communication",
					"communication_medium": "Email",
					"sent_or_received": "Received",
					"subject": "About the offer",
					"content": "Is the price final?",
					"reference_doctype": "Lead",
					"reference_name": self.lead.name,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		if email_account:
			frappe.db.set_value("Communication", name, "email_account", email_account)
		return name

	def sources_for(self, user: str) -> set[tuple[str, str]]:
		frappe.set_user(user)
		try:
			return feed_sources("Lead", self.lead.name)
		finally:
			frappe.set_user("Administrator")

	def test_emails_of_an_email_account_the_user_has_no_access_to_are_left_out(self):
		mine, theirs = frappe.generate_hash(length=8), frappe.generate_hash(length=8)
		own_account, other_account = self.email(mine), self.email(theirs)
		user = make_user(["Sales User", "Inbox User"])
		give_email_account(user, mine)

		sources = self.sources_for(user)

		self.assertIn(("Communication", own_account), sources)
		self.assertNotIn(("Communication", other_account), sources)

	def test_a_user_without_an_email_account_sees_no_emails(self):
		email = self.email()
		user = make_user(["Sales User", "Inbox User"])

		self.assertNotIn(("Communication", email), self.sources_for(user))
		self.assertIn(("Communication", email), self.sources_for("Administrator"))

	def test_comments_follow_the_comment_doctypes_permissions(self):
		comment = frappe.get_doc(
			{
				"doctype": "Comment",
				"comment_type": "Comment",
				"reference_doctype": "Lead",
				"reference_name": self.lead.name,
				"content": "Met at the fair",
			}
		).insert(ignore_permissions=True)
		sales_user, system_manager = make_user(["Sales User"]), make_user(["Sales User", "System Manager"])

		self.assertNotIn(("Comment", comment.name), self.sources_for(sales_user))
		self.assertIn(("Comment", comment.name), self.sources_for(system_manager))

	def test_notes_follow_the_permission_level_of_the_notes_field(self):
		lead = frappe.get_doc("Lead", self.lead.name)
		lead.append(
			"notes", {"note": "Budget approved", "added_by": "Administrator", "added_on": hours_ago(1)}
		)
		lead.save(ignore_permissions=True)
		note = ("CRM Note", str(lead.notes[-1].name))
		user = make_user(["Sales User"])
		self.assertIn(note, self.sources_for(user))

		make_property_setter("Lead", "notes", "permlevel", 2, "Int", validate_fields_for_doctype=False)
		self.addCleanup(frappe.clear_cache, doctype="Lead")
		frappe.clear_cache(doctype="Lead")

		self.assertNotIn(note, self.sources_for(user))
		self.assertIn(note, self.sources_for("Administrator"))


class TestFeedFollowsSharing(CRMTestCase):
	def test_sharing_a_document_and_unsharing_it_reach_the_feed_at_once(self):
		user = make_user(["Sales User"])
		restrict_user_to(user, "Lead", make_lead().name, only_on="Lead")
		lead = make_lead()
		customer = make_customer(lead_name=lead.name).name
		activity = ("CRM Activity", make_activity("Lead", lead.name, channel="SMS").name)

		def customer_feed_as_user() -> set:
			frappe.set_user(user)
			try:
				return feed_sources("Customer", customer)
			finally:
				frappe.set_user("Administrator")

		self.assertNotIn(activity, customer_feed_as_user())  # the user's conditions on Lead are cached now

		frappe.share.add("Lead", lead.name, user, read=1, notify=0)
		self.assertIn(activity, customer_feed_as_user())

		frappe.share.remove("Lead", lead.name, user)
		self.assertNotIn(activity, customer_feed_as_user())
