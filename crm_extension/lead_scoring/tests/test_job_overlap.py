"""Rescore runs and training carry job ids, so a nightly run, a weekly training and a manual "rescore all"
never work on the same Leads at once; a worker keeps only the current model."""

import json
import time
from collections import Counter
from datetime import datetime, timezone
from unittest.mock import patch

import frappe
from frappe.utils.background_jobs import create_job_id, get_job, get_queue
from rq.job import Job, JobStatus

from crm_extension.api import lead_scoring as lead_scoring_api
from crm_extension.lead_scoring import context, jobs
from crm_extension.tests.factories import make_lead
from crm_extension.tests.utils import CommittingTestCase, purge_site_jobs, site_jobs

SETTINGS = "Lead Scoring Settings"
SCORE_CHUNK = "crm_extension.lead_scoring.jobs.score_chunk"


def long_jobs() -> list:
	return site_jobs("long")


def _delete_job(job_id: str):
	if job := get_job(job_id):
		job.delete()


def run_as_worker(job):
	frappe.get_attr(job.kwargs["method"])(**job.kwargs["kwargs"])


class TestRescoreRunsDoNotOverlap(CommittingTestCase):
	def setUp(self):
		super().setUp()
		self.leads = [make_lead(status="Lead").name for _ in range(3)]
		frappe.db.commit()
		purge_site_jobs()
		self.addCleanup(purge_site_jobs)
		frappe.cache.delete(jobs._key(jobs.RUN_CHUNKS))  # no earlier run is going

	def test_a_second_rescore_while_a_run_is_queued_queues_nothing_and_follows_the_run(self):
		first = jobs.rescore_all()
		chunks = [job for job in long_jobs() if job.kwargs["method"] == SCORE_CHUNK]

		second = jobs.rescore_all()

		self.assertTrue(first)
		self.assertEqual(second, [])
		self.assertEqual(
			len([job for job in long_jobs() if job.kwargs["method"] == SCORE_CHUNK]), len(chunks)
		)
		for job in chunks:
			self.assertIn("crm_extension_lead_score_chunk", job.id)

		# the run ends: its last chunk queues the rescore that was asked for meanwhile
		for job in chunks:
			run_as_worker(job)
		frappe.db.commit()
		self.assertIn(
			"crm_extension.lead_scoring.jobs.rescore_all", [job.kwargs["method"] for job in long_jobs()]
		)

	def test_a_chunk_whose_worker_was_killed_does_not_defer_the_next_rescore(self):
		# a worker took the run's first chunk and was killed (kill -9): RQ still says "started", but no
		# heartbeat keeps the job in the started registry any more
		self._run_of_two_chunks(heartbeat_expires_in=-1)

		self.assertFalse(jobs.rescore_running())
		self.assertTrue(jobs.rescore_all())
		# the dead chunk's id is free again: the new run queued its own first chunk under it
		self.assertEqual(get_job(jobs.chunk_job_id(1)).kwargs.get("method"), SCORE_CHUNK)

	def test_a_chunk_running_on_a_live_worker_still_defers_the_next_rescore(self):
		self._run_of_two_chunks(heartbeat_expires_in=60)

		self.assertTrue(jobs.rescore_running())
		self.assertEqual(jobs.rescore_all(), [])

	def test_the_last_live_chunk_of_a_run_with_a_killed_chunk_queues_the_deferred_rescore(self):
		self.started_utc = datetime.now(timezone.utc).replace(tzinfo=None)
		self._run_of_two_chunks(heartbeat_expires_in=-1)
		jobs._redis().set(jobs._key(jobs.RUN_REMAINING), 2)
		jobs._redis().set(jobs._key(jobs.RESCORE_REQUESTED), 1)  # a "rescore all" deferred during the run

		jobs._chunk_done(jobs.chunk_job_id(2))  # chunk 1 died: it will never say it is done
		frappe.db.commit()

		queued = get_job(f"crm_extension_lead_rescore::{frappe.local.site}")  # a bench worker may run it
		self.assertEqual(queued.kwargs["method"], "crm_extension.lead_scoring.jobs.rescore_all")
		self.assertGreater(queued.enqueued_at.replace(tzinfo=None), self.started_utc)

	def _run_of_two_chunks(self, heartbeat_expires_in: int):
		"""A full rescore's run-state: its first chunk taken by a worker whose heartbeat keeps it in the started
		registry ``heartbeat_expires_in`` seconds more (a live worker pushes that forward every 30 s), its
		second finished. The jobs are made in RQ, not queued, so no worker of the bench takes them."""
		queue = get_queue("long")
		ids = [jobs.chunk_job_id(1), jobs.chunk_job_id(2)]
		for job_id, status in zip(ids, (JobStatus.STARTED, JobStatus.FINISHED), strict=True):
			job = Job.create(
				"frappe.utils.background_jobs.test_job",
				id=create_job_id(job_id),
				connection=queue.connection,
				origin=queue.name,
			)
			job.save()
			job.set_status(status)
			self.addCleanup(_delete_job, job_id)
		registry = queue.started_job_registry
		registry.connection.zadd(registry.key, {create_job_id(ids[0]): time.time() + heartbeat_expires_in})
		self.addCleanup(registry.connection.zrem, registry.key, create_job_id(ids[0]))
		jobs._redis().set(jobs._key(jobs.RUN_CHUNKS), json.dumps(ids))

	def test_training_is_queued_once_under_its_job_id_whoever_asks(self):
		frappe.db.set_single_value(SETTINGS, "weekly_training", 1)
		frappe.db.commit()

		jobs.weekly_training()
		answer = lead_scoring_api.train()
		frappe.db.commit()

		self.assertIn("crm_extension_lead_training", answer["job_id"])
		training = [job for job in long_jobs() if "training" in job.id]
		self.assertEqual(len(training), 1)


class TestModelCache(CommittingTestCase):
	def test_a_worker_keeps_only_the_current_model_of_a_site(self):
		context._models.clear()
		with (
			patch("crm_extension.lead_scoring.engine.model.load_model", side_effect=lambda data: object()),
			patch.object(context, "unsealed", side_effect=lambda text: text.encode()),
		):
			old = context.stored_model(frappe._dict(model_data="old", model_version="v1"))
			new = context.stored_model(frappe._dict(model_data="new", model_version="v2"))
			again = context.stored_model(frappe._dict(model_data="new", model_version="v2"))

		self.assertIsNot(old, new)
		self.assertIs(new, again)
		self.assertEqual(len(context._models), 1)
		self.assertEqual(Counter(type(value).__name__ for value in context._models.values()).total(), 1)
