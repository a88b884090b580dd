"""The nightly rescore as the scheduler runs it: one score_chunk job per chunk of open Leads on the long
queue, and each such job scoring its Leads. `frappe.enqueue` is captured, so no worker is needed."""

import inspect
import subprocess
import sys
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
	"""The frappe.enqueue calls of one nightly_rescore, with jobs of CHUNK_SIZE Leads."""
	with (
		patch.object(jobs, "MAX_JOB_SIZE", CHUNK_SIZE),
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

	def test_a_full_rescore_gives_each_long_queue_worker_the_same_share(self):
		open_leads = frappe.db.count("Lead", {"status": ("not in", jobs.DECIDED_STATUSES)})
		with (
			patch.object(jobs, "get_workers", return_value=["worker"] * 3),
			patch("crm_extension.lead_scoring.jobs.frappe.enqueue") as captured,
		):
			count = len(jobs.rescore_all())

		sizes = [len(call.kwargs["leads"]) for call in captured.call_args_list]
		self.assertEqual(len(sizes), count)
		self.assertEqual(sum(sizes), open_leads)
		# well under MAX_JOB_SIZE open Leads: one job per worker, not one for all of them
		self.assertEqual(count, 3)
		self.assertLessEqual(max(sizes) - min(sizes), 1)

	def test_nightly_rescore_enqueues_nothing_when_the_setting_is_off(self):
		frappe.db.set_single_value(SETTINGS, "nightly_rescore", 0)

		self.assertEqual(nightly_jobs(), [])

	def test_running_the_enqueued_chunk_jobs_scores_their_leads(self):
		make_rule(label="Has a name", rule_type="Fit", field="lead_name", operator="is set", points=20)
		calls = nightly_jobs()
		self.addCleanup(setattr, jobs, "CHUNK_SIZE", jobs.CHUNK_SIZE)
		jobs.CHUNK_SIZE = 1  # a job scores its Leads a chunk at a time: here one by one
		ours = [call for call in calls if set(call.kwargs["leads"]) & set(self.open_leads)]
		for lead in self.open_leads:
			self.assertIsNone(frappe.db.get_value("Lead", lead, "score_updated_on"))

		for call in ours:
			run_job(call)
		# as a worker would: a job that names a time scores as of that time
		frappe.db.delete("Lead Score Log", {"lead": self.open_leads[0]})
		frappe.db.set_value("Lead", self.open_leads[0], "lead_score", 0, update_modified=False)
		jobs.score_chunk([self.open_leads[0]], as_of="2031-01-02 03:04:05")

		for lead in self.open_leads:
			values = frappe.db.get_value("Lead", lead, ["lead_score", "score_updated_on"], as_dict=True)
			self.assertEqual(values.lead_score, 20, lead)
			self.assertIsNotNone(values.score_updated_on, lead)
		self.assertEqual(
			str(frappe.db.get_value("Lead", self.open_leads[0], "score_updated_on")), "2031-01-02 03:04:05"
		)
		self.assertIsNone(frappe.db.get_value("Lead", self.decided, "score_updated_on"))


class TestScoringJobImports(CRMTestCase):
	def test_scoring_jobs_and_lead_events_load_no_scikit_learn_or_passlib_without_a_model(self):
		# Each job runs in a fresh fork of its worker: importing scikit-learn there cost 0.8 s per job, and
		# passlib (for the model's signature) 50 ms.
		script = (
			"import sys, frappe, crm_extension.lead_scoring.jobs, crm_extension.doc_events.lead, "
			"crm_extension.doc_events.communication; "
			"print(sorted({'sklearn', 'scipy', 'passlib'} & set(sys.modules)))"
		)
		result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

		self.assertEqual(result.stdout.strip(), "[]")
