import random
from datetime import datetime, timedelta
from unittest.mock import patch

import frappe
from frappe.utils import now_datetime

from crm_extension.lead_scoring import activity_tallies as activity_tallies_module
from crm_extension.lead_scoring.activity_tallies import activity_count_terms, activity_tallies
from crm_extension.lead_scoring.context import load_context
from crm_extension.lead_scoring.engine.features import DEFAULT_FEATURES, feature_row
from crm_extension.lead_scoring.engine.model import TrainingExample, linear_scorer, train_model
from crm_extension.lead_scoring.engine.rules import (
	EngagementRule,
	InactivityRule,
	rules_tally_query,
	score_tallies,
	tally_feed,
)
from crm_extension.lead_scoring.scoring import feed_tallies, fields_read, lead_rows, model_logits
from crm_extension.lead_scoring.touches import (
	activity_touches,
	host_touches,
	lead_span,
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
COUNTED = (("channel", CHANNELS), ("direction", DIRECTIONS), ("outcome", OUTCOMES))


def make_email(lead: str, at):
	return frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Email",
			"sent_or_received": "Received",
			"subject": "Re: our offer",
			"communication_date": at,
			"reference_doctype": "Lead",
			"reference_name": lead,
		}
	).insert(ignore_permissions=True)


def make_random_activities(references: list[tuple[str, str]], seed: int, days_ago) -> None:
	"""40 activities spread over ``references``, each ``days_ago(generator)`` days before now (some after it:
	neither side may count those)."""
	generator, now = random.Random(seed), now_datetime()
	for number in range(40):
		doctype, name = references[number % len(references)]
		make_activity(
			doctype,
			name,
			channel=generator.choice(CHANNELS),
			direction=generator.choice(DIRECTIONS),
			outcome=generator.choice(OUTCOMES),
			activity_at=now - timedelta(days=days_ago(generator), microseconds=number),
		)


def trained_model():
	"""A model trained by the engine on made-up rows that count the feed values these tests use."""
	generator, examples = random.Random(3), []
	keys = ["all"] + [f"{dimension}:{value}" for dimension, values in COUNTED for value in values if value]
	for number in range(240):
		row = {f"count:{days}d:{key}": generator.randint(0, 4) for days in (7, 30, 90) for key in keys}
		row.update(source=generator.choice(["Referral", "Cold Calling"]), days_since_last_contact=5.0)
		label = int(row["count:30d:direction:Inbound"] + generator.random() * 4 > 4)
		examples.append(TrainingExample(str(number), row, label, datetime(2025, 1, 1) + timedelta(number)))
	return train_model(examples, datetime(2025, 6, 1)).model


class TestActivityTallies(CRMTestCase):
	def test_the_databases_tallies_score_exactly_like_the_engine_on_the_same_activities(self):
		leads = [make_lead().name for _ in range(3)]
		contact = make_contact([("Lead", leads[0])])
		opportunity = make_opportunity("Lead", leads[1])
		references = [("Lead", lead) for lead in leads] + [
			("Contact", contact.name),
			("Opportunity", opportunity.name),
		]
		make_random_activities(references, 7, lambda generator: generator.uniform(-3, 200))
		as_of = now_datetime()
		owners = related_documents(leads)
		items = activity_touches(owners)

		from_database = activity_tallies(owners, rules_tally_query(RULES), as_of)

		for lead in leads:
			row = {"creation": as_of - timedelta(days=365)}
			expected = score_tallies(row, tally_feed(items[lead], RULES, as_of), RULES, as_of)
			actual = score_tallies(row, from_database[lead], RULES, as_of)
			self.assertGreater(len(expected.breakdown), 1)
			self.assertEqual(
				[(c.rule_id, c.matched_items, c.latest_at) for c in actual.breakdown],
				[(c.rule_id, c.matched_items, c.latest_at) for c in expected.breakdown],
			)
			self.assertEqual([c.points for c in actual.breakdown], [c.points for c in expected.breakdown])
			self.assertEqual(actual.score, expected.score)

	def test_the_models_log_odds_from_database_sums_equal_those_of_feature_rows_made_from_the_items(self):
		leads = [make_lead().name for _ in range(4)]
		contacts = [make_contact([("Lead", leads[0])]), make_contact([("Lead", leads[3])])]
		# lead 0: its own and its Contact's activities; lead 1: its own and an email; lead 2: its own;
		# lead 3: its Contact's alone
		references = [("Lead", lead) for lead in leads[:3]] + [("Contact", c.name) for c in contacts]
		# inside and beyond the 7, 30 and 90-day windows; a few after the cutoff
		make_random_activities(
			references, 11, lambda generator: generator.choice([0.5, 5, 20, 60, 120, 400, -2])
		)
		make_email(leads[1], now_datetime() - timedelta(days=3))
		as_of = now_datetime()
		cutoff = as_of + timedelta(seconds=1)
		owners = related_documents(leads)
		host_items = host_touches(owners)
		tallies = feed_tallies(owners, host_items, RULES, as_of, with_last_contact=True)
		rows = [frappe._dict(name=lead, source="Referral", email_id="a@example.com") for lead in leads]
		items = load_touches(leads)
		scorer = linear_scorer(trained_model())

		actual = model_logits(rows, owners, host_items, tallies, cutoff, DEFAULT_FEATURES, scorer)

		expected = {
			row.name: scorer.logit(feature_row(row, items.get(row.name, []), cutoff, DEFAULT_FEATURES))
			for row in rows
		}
		uncounted = {row.name: scorer.logit(feature_row(row, [], cutoff, DEFAULT_FEATURES)) for row in rows}
		for lead in leads:
			self.assertAlmostEqual(actual[lead], expected[lead], places=9, msg=lead)
			# every lead has counted items, and they move its log-odds
			self.assertNotAlmostEqual(expected[lead], uncounted[lead], places=3, msg=lead)

	def test_documents_with_more_activities_than_a_packed_count_holds_are_counted_term_by_term(self):
		lead = make_lead().name
		contact = make_contact([("Lead", lead)])
		references = [("Lead", lead), ("Contact", contact.name)]
		make_random_activities(references, 13, lambda generator: generator.choice([0.5, 5, 20, 60]))
		cutoff = now_datetime() + timedelta(seconds=1)
		owners = related_documents([lead])
		terms = linear_scorer(trained_model()).count_terms
		packed = activity_count_terms(owners, cutoff, terms, set(owners))

		with patch.object(activity_tallies_module, "MAX_FIELD_BITS", 2):  # counts of up to 3 activities
			term_by_term = activity_count_terms(owners, cutoff, terms, set(owners))

		self.assertGreater(max(count for document in packed.values() for count in document.counts), 3)
		self.assertEqual(term_by_term, packed)

	def test_with_no_engagement_or_inactivity_rule_nothing_is_read(self):
		lead = make_lead().name
		make_activity("Lead", lead)

		self.assertEqual(
			activity_tallies(related_documents([lead]), rules_tally_query(()), now_datetime()), {}
		)


class TestLeadSpans(CRMTestCase):
	def setUp(self):
		# consecutive names; the second Lead is decided, so a full rescore skips it
		self.leads = [make_lead(), make_lead(status="Do Not Contact"), make_lead(), make_lead()]
		self.open = [lead.name for lead in self.leads if lead.status != "Do Not Contact"]
		decided = self.leads[1].name
		contact = make_contact([("Lead", self.open[1])])
		opportunity = make_opportunity("Lead", self.open[2])
		references = [("Lead", lead.name) for lead in self.leads] + [
			("Contact", contact.name),
			("Opportunity", opportunity.name),
		]
		make_random_activities(references, 5, lambda generator: generator.choice([1, 10, 45, 100]))
		make_email(decided, now_datetime() - timedelta(days=2))
		make_email(self.open[0], now_datetime() - timedelta(days=4))

	def test_a_run_of_open_leads_with_few_others_between_them_is_read_as_a_span(self):
		span = lead_span(self.open)

		self.assertEqual((span.first, span.last), (self.open[0], self.open[-1]))

	def test_no_span_for_one_lead_leads_out_of_order_or_a_run_with_many_others_between(self):
		self.assertIsNone(lead_span(self.open[:1]))
		self.assertIsNone(lead_span(list(reversed(self.open))))
		# 4 Leads lie between the first and the last: more than 1.5 per Lead of the run
		self.assertIsNone(lead_span([self.open[0], self.open[-1]]))

	def test_reading_a_run_as_a_span_gives_the_same_rows_as_by_name_without_the_lead_between(self):
		span, as_of = lead_span(self.open), now_datetime()
		query, cutoff = rules_tally_query(RULES), as_of + timedelta(seconds=1)
		fields = fields_read(load_context())

		owners = related_documents(self.open)
		spanned_owners = related_documents(self.open, span)
		tallies = activity_tallies(owners, query, as_of)
		host_items = host_touches(owners)

		self.assertEqual(spanned_owners, owners)
		self.assertEqual(
			sorted(lead_rows(self.open, fields, span), key=lambda row: row.name),
			sorted(lead_rows(self.open, fields), key=lambda row: row.name),
		)
		self.assertEqual(host_touches(owners, span), host_items)
		self.assertEqual(activity_tallies(owners, query, as_of, span), tallies)
		terms, detailed = linear_scorer(trained_model()).count_terms, {("Lead", self.open[0])}
		self.assertEqual(
			activity_count_terms(owners, cutoff, terms, detailed, span),
			activity_count_terms(owners, cutoff, terms, detailed),
		)
		self.assertEqual(set(tallies), set(self.open))
		self.assertEqual(set(host_items), {self.open[0]})
