"""A job whose worker was killed (``kill -9``, out of memory) stays "started" in RQ until some worker's
registry maintenance, every 10 minutes, sees its heartbeat stopped. The app's deduplicated jobs must not be
refused on the id of such a dead job once its heartbeat has expired (at most 90 s after the kill).

The jobs live on a queue of this test's own, so no worker of the bench takes them."""

import time
from unittest.mock import patch

import frappe
from frappe.utils.background_jobs import create_job_id, generate_qname, get_job, get_redis_conn
from rq import Queue
from rq.job import Job, JobStatus

from crm_extension.customer_value import recompute
from crm_extension.tests.utils import CommittingTestCase

RECOMPUTE = "crm_extension.customer_value.recompute.recompute"


class TestDeduplicatedJobsAfterAKilledWorker(CommittingTestCase):
	def setUp(self):
		super().setUp()
		self.queue = Queue(generate_qname("crm-test-dead-jobs"), connection=get_redis_conn())
		self.queue.empty()
		self.addCleanup(self.queue.empty)
		private = patch("frappe.utils.background_jobs.get_queue", lambda *args, **kwargs: self.queue)
		private.start()
		self.addCleanup(private.stop)
		self.job_id = "crm_customer_value_recompute::::"  # no company, no date: today's, the settings'
		self.addCleanup(self._delete_job)

	def test_a_recompute_whose_worker_was_killed_does_not_block_the_next_one(self):
		self._started_job_of_a_worker(heartbeat_expires_in=-1)  # killed: no heartbeat any more

		job_id = recompute.queue_recompute()
		frappe.db.commit()  # the job is pushed at commit

		self.assertEqual(job_id, self.job_id)
		job = get_job(job_id)
		self.assertEqual(job.kwargs.get("method"), RECOMPUTE)
		self.assertEqual(job.get_status(refresh=True), JobStatus.QUEUED)
		self.assertIn(job.id, self.queue.get_job_ids())

	def test_a_recompute_running_on_a_live_worker_is_not_queued_twice(self):
		self._started_job_of_a_worker(heartbeat_expires_in=60)  # a live worker's heartbeat

		recompute.queue_recompute()
		frappe.db.commit()

		self.assertEqual(get_job(self.job_id).get_status(refresh=True), JobStatus.STARTED)
		self.assertEqual(self.queue.get_job_ids(), [])

	def _started_job_of_a_worker(self, heartbeat_expires_in: int):
		"""The recompute's job as a worker that took it leaves it: "started", in the started registry until
		its heartbeat expires (a live worker pushes that forward every 30 s)."""
		job = Job.create(
			"frappe.utils.background_jobs.test_job",
			id=create_job_id(self.job_id),
			connection=self.queue.connection,
			origin=self.queue.name,
		)
		job.save()
		job.set_status(JobStatus.STARTED)
		registry = self.queue.started_job_registry
		registry.connection.zadd(registry.key, {job.id: time.time() + heartbeat_expires_in})
		self.addCleanup(registry.connection.zrem, registry.key, job.id)
		self.addCleanup(self.queue.failed_job_registry.remove, job.id)

	def _delete_job(self):
		if job := get_job(self.job_id):
			job.delete()
