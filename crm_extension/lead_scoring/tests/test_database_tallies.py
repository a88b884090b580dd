import random
from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from crm_extension.lead_scoring.database_tallies import activity_tallies
from crm_extension.lead_scoring.engine.features import DEFAULT_FEATURES, feature_row
from crm_extension.lead_scoring.engine.rules import (
	EngagementRule,
	InactivityRule,
	rules_tally_query,
	score_tallies,
	tally_feed,
)
from crm_extension.lead_scoring.scoring import feed_tallies, model_feature_rows
from crm_extension.lead_scoring.touches import (
	activity_touches,
	host_touches,
	load_touches,
	related_documents,
)
from crm_extension.tests.factories import make_activity, make_contact, make_lead, make_opportunity
from crm_extension.tests.utils import CRMTestCase

RULES = (
	EngagementRule("replied", "Replied", 6, direction="Inbound", outcome="replied", half_life_days=14),
	EngagementRule("whatsapp", "WhatsApp", 4, channel="whatsapp", half_life_days=7, max_points=20),
	EngagementRule("meeting", "Meeting held", 15, outcome="Meeting Held", half_life_days=None, max_points=30),
	EngagementRule("bounced", "Bounced", -20, outcome="Bounced", half_life_days=60),
	InactivityRule("idle", "Idle", -10, days=30),
	InactivityRule("silent", "No reply", -10, days=90, direction="Inbound"),
)
CHANNELS = ("WhatsApp", "Email", "Phone", "SMS")
DIRECTIONS = ("Inbound", "Outbound", "Internal")
OUTCOMES = ("", "Replied", "No Response", "Meeting Held", "Bounced")


EMAIL_RULES = (
	EngagementRule("email in", "Email in", 5, channel="email", direction="Inbound", half_life_days=10),
	EngagementRule("phone", "Phone", 3, channel="Phone", half_life_days=None, max_points=9),
	EngagementRule("website", "Chat", 2, channel="Website", half_life_days=30),
	EngagementRule("other out", "Other out", 1, channel="Other", direction="Outbound", half_life_days=None),
	EngagementRule("replied", "Replied", 6, outcome="Replied", half_life_days=14),  # emails have no outcome
	InactivityRule("idle", "Idle", -10, days=30),
	InactivityRule("silent", "No reply", -10, days=90, direction="Inbound"),
)
MEDIUMS = ("Email", "Phone", "SMS", "Chat", "Other", "Visit", "", None)
SENT_OR_RECEIVED = ("Sent", "Received", None)


def make_email(
	reference: tuple[str, str], at, medium="Email", sent_or_received="Received", links=()
) -> frappe.model.document.Document:
	email = frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": medium,
			"sent_or_received": sent_or_received,
			"subject": "Re: our offer",
			"communication_date": at,
			"reference_doctype": reference[0],
			"reference_name": reference[1],
		}
	)
	for link_doctype, link_name in links:
		email.append("timeline_links", {"link_doctype": link_doctype, "link_name": link_name})
	return email.insert(ignore_permissions=True)


def same_breakdown(test: CRMTestCase, actual, expected):
	test.assertEqual(
		[(c.rule_id, c.matched_items, c.latest_at) for c in actual.breakdown],
		[(c.rule_id, c.matched_items, c.latest_at) for c in expected.breakdown],
	)
	test.assertEqual([c.points for c in actual.breakdown], [c.points for c in expected.breakdown])
	test.assertEqual(actual.score, expected.score)


class TestDatabaseTallies(CRMTestCase):
	def test_the_databases_tallies_score_exactly_like_the_engine_on_the_same_activities(self):
		as_of = now_datetime()
		generator = random.Random(7)
		leads = [make_lead().name for _ in range(3)]
		contact = make_contact([("Lead", leads[0])])
		opportunity = make_opportunity("Lead", leads[1])
		references = [("Lead", lead) for lead in leads] + [
			("Contact", contact.name),
			("Opportunity", opportunity.name),
		]
		for number in range(40):
			doctype, name = references[number % len(references)]
			make_activity(
				doctype,
				name,
				channel=generator.choice(CHANNELS),
				direction=generator.choice(DIRECTIONS),
				outcome=generator.choice(OUTCOMES),
				# some after as_of: neither side may count them
				activity_at=as_of - timedelta(days=generator.uniform(-3, 200), microseconds=number),
			)
		owners = related_documents(leads)
		items = activity_touches(owners)

		from_database = activity_tallies(owners, rules_tally_query(RULES), as_of)

		for lead in leads:
			row = {"creation": as_of - timedelta(days=365)}
			expected = score_tallies(row, tally_feed(items[lead], RULES, as_of), RULES, as_of)
			actual = score_tallies(row, from_database[lead], RULES, as_of)
			self.assertGreater(len(expected.breakdown), 1)
			same_breakdown(self, actual, expected)

	def test_emails_tallied_by_the_database_count_once_per_lead_like_the_engine_counts_them(self):
		as_of = now_datetime()
		generator = random.Random(5)
		leads = [make_lead().name for _ in range(3)]
		contact = make_contact([("Lead", leads[0])])
		opportunity = make_opportunity("Lead", leads[1])
		references = [("Lead", leads[0]), ("Lead", leads[2]), ("Contact", contact.name)]
		references.append(("Opportunity", opportunity.name))
		for number in range(36):
			make_email(
				references[number % len(references)],
				as_of - timedelta(days=generator.uniform(-3, 120), microseconds=number),
				medium=generator.choice(MEDIUMS),
				sent_or_received=generator.choice(SENT_OR_RECEIVED),
				# about the Lead and linked to its Contact too: one email, counted once
				links=[("Contact", contact.name)] if number % 5 == 0 else [],
			)
		owners = related_documents(leads)
		items = load_touches(leads)
		host_items = host_touches(owners, with_emails=False)

		from_database = feed_tallies(owners, host_items, EMAIL_RULES, as_of, with_last_contact=True)

		query = rules_tally_query(EMAIL_RULES, with_last_contact=True)
		for lead in leads:
			row = {"creation": as_of - timedelta(days=365)}
			engine_tallies = tally_feed(items[lead], EMAIL_RULES, as_of, query)
			expected = score_tallies(row, engine_tallies, EMAIL_RULES, as_of)
			self.assertGreater(len(expected.breakdown), 1)
			same_breakdown(self, score_tallies(row, from_database[lead], EMAIL_RULES, as_of), expected)
			self.assertEqual(from_database[lead].contacts, engine_tallies.contacts)

	def test_the_models_feature_rows_from_database_counts_equal_those_made_from_the_items(self):
		as_of = now_datetime()
		cutoff = as_of + timedelta(seconds=1)
		generator = random.Random(11)
		leads = [make_lead().name for _ in range(3)]
		contact = make_contact([("Lead", leads[0])])
		references = [("Lead", lead) for lead in leads] + [("Contact", contact.name)]
		for number in range(40):
			doctype, name = references[number % len(references)]
			make_activity(
				doctype,
				name,
				channel=generator.choice(CHANNELS),
				direction=generator.choice(DIRECTIONS),
				outcome=generator.choice(OUTCOMES),
				# inside and beyond the 7, 30 and 90-day windows; a few after the cutoff
				activity_at=as_of - timedelta(days=generator.choice([0.5, 5, 20, 60, 120, 400, -2])),
			)
		make_email(("Lead", leads[1]), as_of - timedelta(days=3))
		make_email(
			("Lead", leads[0]), as_of - timedelta(days=40), "Phone", "Sent", [("Contact", contact.name)]
		)
		owners = related_documents(leads)
		host_items = host_touches(owners, with_emails=False)
		tallies = feed_tallies(owners, host_items, RULES, as_of, with_last_contact=True)
		rows = [frappe._dict(name=lead, source="Referral", email_id="a@example.com") for lead in leads]
		items = load_touches(leads)

		actual = model_feature_rows(rows, owners, host_items, tallies, cutoff, DEFAULT_FEATURES)

		expected = [feature_row(row, items.get(row.name, []), cutoff, DEFAULT_FEATURES) for row in rows]
		self.assertGreater(len([key for key in expected[1] if key.startswith("count:")]), 3)
		for mine, theirs in zip(actual, expected, strict=True):
			self.assertEqual(mine.keys(), theirs.keys())
			for key, value in theirs.items():
				if isinstance(value, float):
					self.assertAlmostEqual(mine[key], value, places=6, msg=key)
				else:
					self.assertEqual(mine[key], value, key)

	def test_with_no_engagement_or_inactivity_rule_nothing_is_read(self):
		lead = make_lead().name
		make_activity("Lead", lead)

		self.assertEqual(
			activity_tallies(related_documents([lead]), rules_tally_query(()), now_datetime()), {}
		)
