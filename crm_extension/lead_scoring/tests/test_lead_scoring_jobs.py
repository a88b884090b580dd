"""The nightly rescore as the scheduler runs it: one score_chunk job per chunk of open Leads on the long
queue, and each such job scoring its Leads. `frappe.enqueue` is captured, so no worker is needed."""

import inspect
from unittest.mock import patch

import frappe
from frappe.utils.background_jobs import enqueue

from crm_extension.lead_scoring import jobs
from crm_extension.lead_scoring.tests.factories import clear_rules, make_rule
from crm_extension.tests.factories import make_lead
from crm_extension.tests.utils import CRMTestCase

SETTINGS = "Lead Scoring Settings"
SCORE_CHUNK = "crm_extension.lead_scoring.jobs.score_chunk"
CHUNK_SIZE = 2
# What frappe.enqueue (a wrapper of this enqueue) takes for itself: queue, timeout, job_id, ...; the rest
# goes to the job.
ENQUEUE_PARAMETERS = set(inspect.signature(enqueue).parameters) - {"method", "kwargs"}


def nightly_jobs() -> list:
	"""The frappe.enqueue calls of one nightly_rescore, with chunks of CHUNK_SIZE Leads."""
	with (
		patch.object(jobs.open_lead_chunks, "__defaults__", (CHUNK_SIZE,)),
		patch("crm_extension.lead_scoring.jobs.frappe.enqueue") as captured,
	):
		jobs.nightly_rescore()
	return captured.call_args_list


def run_job(call):
	"""What a worker does with the job: the enqueued method called with the job's own arguments."""
	method = call.kwargs.get("method") or call.args[0]
	frappe.get_attr(method)(
		**{key: value for key, value in call.kwargs.items() if key not in ENQUEUE_PARAMETERS}
	)


class TestNightlyRescore(CRMTestCase):
	def setUp(self):
		clear_rules()
		frappe.db.set_single_value(SETTINGS, "nightly_rescore", 1)
		self.open_leads = sorted(make_lead().name for _ in range(5))
		self.decided = make_lead().name
		frappe.db.set_value("Lead", self.decided, "status", "Do Not Contact")

	def test_nightly_rescore_enqueues_one_long_score_chunk_job_per_chunk_of_open_leads(self):
		calls = nightly_jobs()

		self.assertTrue(calls)
		self.assertEqual({call.args[0] for call in calls}, {SCORE_CHUNK})
		self.assertEqual({call.kwargs["queue"] for call in calls}, {"long"})
		chunks = [call.kwargs["leads"] for call in calls]
		self.assertTrue(all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks))
		# Positions number the jobs 1..n and every job knows n, so progress reaches 100% on the last one.
		self.assertEqual([call.kwargs["position"] for call in calls], list(range(1, len(calls) + 1)))
		self.assertEqual({call.kwargs["chunks"] for call in calls}, {len(calls)})
		names = [name for chunk in chunks for name in chunk]
		self.assertEqual(len(names), len(set(names)), "a Lead is in two chunks")
		self.assertEqual(sorted(name for name in names if name in self.open_leads), self.open_leads)
		self.assertNotIn(self.decided, names)
		# Five Leads in chunks of two span at least three jobs: the chunking really split them.
		self.assertGreaterEqual(len([chunk for chunk in chunks if set(chunk) & set(self.open_leads)]), 3)

	def test_nightly_rescore_enqueues_nothing_when_the_setting_is_off(self):
		frappe.db.set_single_value(SETTINGS, "nightly_rescore", 0)

		self.assertEqual(nightly_jobs(), [])

	def test_running_the_enqueued_chunk_jobs_scores_their_leads(self):
		make_rule(label="Has a name", rule_type="Fit", field="lead_name", operator="is set", points=20)
		calls = nightly_jobs()
		ours = [call for call in calls if set(call.kwargs["leads"]) & set(self.open_leads)]
		for lead in self.open_leads:
			self.assertIsNone(frappe.db.get_value("Lead", lead, "score_updated_on"))

		for call in ours:
			run_job(call)

		for lead in self.open_leads:
			values = frappe.db.get_value("Lead", lead, ["lead_score", "score_updated_on"], as_dict=True)
			self.assertEqual(values.lead_score, 20, lead)
			self.assertIsNotNone(values.score_updated_on, lead)
		self.assertIsNone(frappe.db.get_value("Lead", self.decided, "score_updated_on"))
