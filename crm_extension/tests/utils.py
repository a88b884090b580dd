"""Base class for the Frappe suite: FrappeTestCase on v15, IntegrationTestCase on v16 (renamed there)."""

from datetime import datetime, timezone

import frappe
from frappe.model.document import Document
from frappe.utils import now_datetime

try:
	from frappe.tests import IntegrationTestCase as _FrameworkTestCase
except ImportError:
	from frappe.tests.utils import FrappeTestCase as _FrameworkTestCase


class CRMTestCase(_FrameworkTestCase):
	"""Everything a test class writes is rolled back afterwards, even where host code commits mid-request
	(ERPNext commits when it links a new Contact's phone number to past calls), so running the suite
	leaves the site's data as it was."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls._commit = frappe.db.commit
		frappe.db.commit = _rolled_back_later

	@classmethod
	def tearDownClass(cls):
		frappe.db.commit = cls._commit
		super().tearDownClass()


def _rolled_back_later(*args, **kwargs):
	pass


class CommittingTestCase(_FrameworkTestCase):
	"""For the paths that only run at a real commit: after-commit callbacks (queued rescoring, refresh jobs)
	and locks held across a commit. ``frappe.db.commit`` commits for real here, so a test cannot rely on a
	rollback: every document inserted while the class runs is tracked by name and deleted afterwards
	(documents a test made after each test, those of ``setUpClass`` at the end of the class), as are rows
	that the app writes without a document (``sweep_doctypes``: rows created since the test began) and the
	background jobs this site queued meanwhile. A subclass overriding setUp or setUpClass calls super()."""

	sweep_doctypes: tuple[str, ...] = ("Lead Score Log",)

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls._class_started = _now()
		cls._tracked = [[]]
		cls._original_db_insert = Document.db_insert
		tracked = cls._tracked

		def db_insert(doc, *args, **kwargs):
			result = cls._original_db_insert(doc, *args, **kwargs)
			if not doc.meta.istable:
				tracked[-1].append((doc.doctype, doc.name))
			return result

		Document.db_insert = db_insert

	@classmethod
	def tearDownClass(cls):
		try:
			cls._clean_up(cls._tracked.pop(), cls._class_started)
		finally:
			Document.db_insert = cls._original_db_insert
			super().tearDownClass()

	def setUp(self):
		super().setUp()
		self._started = _now()
		self._tracked.append([])
		self.addCleanup(self._clean_up_test)

	def _clean_up_test(self):
		frappe.set_user("Administrator")
		self._clean_up(self._tracked.pop(), self._started)

	@classmethod
	def _clean_up(cls, created: list[tuple[str, str]], since):
		frappe.db.rollback()
		for doctype, name in reversed(created):
			delete_quietly(doctype, name)
		for doctype in cls.sweep_doctypes:
			frappe.db.delete(doctype, {"creation": (">=", since[0])})
		frappe.db.commit()
		purge_site_jobs(since[1])


def delete_quietly(doctype: str, name: str):
	"""Delete a test's document and its child rows, whatever links to it."""
	if not frappe.db.exists(doctype, name):
		return
	try:
		frappe.db.savepoint("crm_test_cleanup")
		frappe.delete_doc(doctype, name, force=True, ignore_permissions=True, delete_permanently=True)
	except Exception:
		frappe.db.rollback(save_point="crm_test_cleanup")
		for child in frappe.get_meta(doctype).get_table_fields():
			frappe.db.delete(child.options, {"parent": name, "parenttype": doctype})
		frappe.db.delete(doctype, {"name": name})


def site_jobs(queue: str) -> list:
	"""The jobs waiting in ``queue`` that this site queued (a job queued twice counts twice)."""
	from frappe.utils.background_jobs import get_queue

	rq_queue = get_queue(queue)
	jobs = []
	for job_id in rq_queue.get_job_ids():
		job = rq_queue.fetch_job(job_id)
		if job and job.kwargs.get("site") == frappe.local.site:
			jobs.append(job)
	return jobs


def purge_site_jobs(since_utc=None):
	"""Remove the jobs this site queued (since ``since_utc``, naive UTC as RQ keeps it) from every queue."""
	from frappe.utils.background_jobs import get_queue, get_queue_list

	for queue in get_queue_list():
		rq_queue = get_queue(queue)
		for job in site_jobs(queue):
			enqueued = job.enqueued_at and job.enqueued_at.replace(tzinfo=None)
			if since_utc is None or enqueued is None or enqueued >= since_utc:
				rq_queue.remove(job.id)
				job.delete()


def _now() -> tuple:
	"""(site time as ``creation`` holds it, naive UTC as RQ's ``enqueued_at`` holds it)."""
	return now_datetime(), datetime.now(timezone.utc).replace(tzinfo=None)


__all__ = ["CRMTestCase", "CommittingTestCase", "purge_site_jobs", "site_jobs"]
