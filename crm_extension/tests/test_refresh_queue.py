"""Writes queue each party's refresh once per transaction, and a bulk load costs a few chunk jobs."""

from collections import Counter

import frappe

from crm_extension.tests.factories import make_lead
from crm_extension.tests.test_committed_paths import log_activity
from crm_extension.tests.utils import CommittingTestCase, purge_site_jobs, site_jobs

SCORE_JOB = "crm_extension.lead_scoring.jobs.score_one"
REFRESH_JOB = "crm_extension.activity_log.refresh.refresh_preferred_channel"
DRAIN_JOB = "crm_extension.refresh_queue.drain"


def jobs_by_method(queue: str, about: list[str] | None = None) -> Counter:
	return Counter(
		job.kwargs["method"]
		for job in site_jobs(queue)
		if about is None or any(name in str(job.kwargs["kwargs"]) for name in about)
	)


class TestRefreshQueuedOncePerTransaction(CommittingTestCase):
	def setUp(self):
		super().setUp()
		self.leads = [make_lead().name for _ in range(3)]
		frappe.db.commit()
		purge_site_jobs()

	def test_many_activities_for_a_few_leads_in_one_transaction_queue_one_job_per_lead_and_kind(self):
		for _ in range(10):
			for lead in self.leads:
				log_activity(lead)
		frappe.db.commit()

		self.assertEqual(jobs_by_method("short", self.leads), Counter({SCORE_JOB: 3, REFRESH_JOB: 3}))

	def test_a_later_transaction_queues_no_copy_of_a_job_still_waiting(self):
		log_activity(self.leads[0])
		frappe.db.commit()
		log_activity(self.leads[0])
		frappe.db.commit()

		self.assertEqual(jobs_by_method("short", self.leads), Counter({SCORE_JOB: 1, REFRESH_JOB: 1}))

	def test_a_rollback_forgets_the_parties_of_the_transaction(self):
		log_activity(self.leads[0])
		frappe.db.rollback()
		log_activity(self.leads[1])
		frappe.db.commit()

		self.assertEqual(jobs_by_method("short", self.leads[:1]), Counter())
		self.assertEqual(jobs_by_method("short", self.leads[1:2]), Counter({SCORE_JOB: 1, REFRESH_JOB: 1}))


class TestBulkLoadRefreshesInChunks(CommittingTestCase):
	def setUp(self):
		super().setUp()
		purge_site_jobs()
		self.addCleanup(clear_dirty_sets)
		clear_dirty_sets()

	def test_a_data_import_of_many_activities_costs_one_chunk_job_per_kind(self):
		frappe.flags.in_import = True
		try:
			leads = []
			for _ in range(30):  # Data Import commits after every row
				leads.append(make_lead(status="Lead").name)
				frappe.db.commit()
				for _ in range(2):
					log_activity(leads[-1])
					frappe.db.commit()
		finally:
			frappe.flags.in_import = False

		self.assertEqual(jobs_by_method("short", leads), Counter())
		self.assertEqual(jobs_by_method("long"), Counter({DRAIN_JOB: 2}))

		from crm_extension import refresh_queue

		purge_site_jobs()
		refresh_queue.drain("lead_score")
		refresh_queue.drain("preferred_channel")
		frappe.db.commit()

		scored = frappe.get_all(
			"Lead", {"name": ("in", leads), "score_updated_on": ("is", "set")}, pluck="name"
		)
		self.assertCountEqual(scored, leads)
		self.assertEqual(jobs_by_method("long"), Counter())

	def test_many_parties_in_one_transaction_are_refreshed_in_chunks_that_queue_the_next(self):
		from crm_extension import refresh_queue

		leads = [make_lead().name for _ in range(refresh_queue.BULK_PARTIES + 5)]
		frappe.db.commit()
		self.assertEqual(jobs_by_method("short", leads), Counter())
		self.assertEqual(jobs_by_method("long"), Counter({DRAIN_JOB: 1}))

		purge_site_jobs()
		refresh_queue.DRAIN_CHUNK, chunk = 10, refresh_queue.DRAIN_CHUNK
		try:
			refresh_queue.drain("lead_score")
			frappe.db.commit()
		finally:
			refresh_queue.DRAIN_CHUNK = chunk
		self.assertEqual(jobs_by_method("long"), Counter({DRAIN_JOB: 1}))
		self.assertEqual(
			frappe.db.count("Lead", {"name": ("in", leads), "score_updated_on": ("is", "set")}), 10
		)


def clear_dirty_sets():
	try:
		from crm_extension import refresh_queue
	except ImportError:
		return
	for kind in refresh_queue.WORK:
		frappe.cache.delete(frappe.cache.make_key(refresh_queue.dirty_key(kind)))
		frappe.cache.delete(frappe.cache.make_key(refresh_queue.drain_flag(kind)))
