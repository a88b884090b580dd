"""Two workers, one due chunk, real commits: each step runs once and each email is queued once."""

import itertools
import threading

import frappe

from crm_extension.sequences.enrollment import enroll
from crm_extension.sequences.execute import execute_chunk
from crm_extension.sequences.tests.factories import (
	email_template,
	make_due,
	make_sequence,
	open_all_hours,
	outgoing_email_account,
)
from crm_extension.tests.factories import default_company, make_lead, unique
from crm_extension.tests.utils import CommittingTestCase

SETTINGS_FIELDS = ("window_start", "window_end", "emails_per_day", "min_gap_seconds", "company")


class TestTwoWorkers(CommittingTestCase):
	sweep_doctypes = ("Lead Score Log", "Version")

	def setUp(self):
		super().setUp()
		settings = frappe.get_single("CRM Sequence Settings")
		self.saved = {field: settings.get(field) for field in SETTINGS_FIELDS}
		self.holiday_list = frappe.db.get_value("Company", default_company(), "default_holiday_list")
		open_all_hours()
		outgoing_email_account()
		frappe.db.commit()

	def tearDown(self):
		frappe.db.rollback()
		frappe.db.set_value("Company", default_company(), "default_holiday_list", self.holiday_list)
		for field, value in self.saved.items():
			frappe.db.set_single_value("CRM Sequence Settings", field, value)
		frappe.db.commit()
		super().tearDown()

	def test_two_workers_running_the_same_chunk_execute_each_step_and_queue_each_email_once(self):
		template = email_template()
		sequence = make_sequence(
			[
				{"step_type": "Automatic Email", "email_template": template},
				{"step_type": "Call Task", "task_text": "Call", "delay_days": 2},
			]
		)
		leads = [make_lead(email_id=f"{unique('w').replace(' ', '')}@example.com") for _ in range(6)]
		names = [enroll(sequence, "Lead", lead.name) for lead in leads]
		for name in names:
			make_due(name)
		frappe.db.commit()

		errors = run_in_two_workers(names, names)

		self.assertEqual(errors, [])
		runs = frappe.get_all(
			"CRM Sequence Step Run",
			filters={"enrollment": ("in", names)},
			fields=["enrollment", "communication"],
		)
		self.assertEqual(sorted(run.enrollment for run in runs), sorted(names))
		communications = [run.communication for run in runs]
		self.assertEqual(frappe.db.count("Email Queue", {"communication": ("in", communications)}), 6)
		self.assertEqual(
			frappe.db.count("Communication", {"reference_name": ("in", [lead.name for lead in leads])}), 6
		)
		self.assertEqual(
			set(
				frappe.get_all("CRM Sequence Enrollment", filters={"name": ("in", names)}, pluck="next_step")
			),
			{2},
		)

	def test_two_workers_with_one_salespersons_emails_keep_the_minimum_gap_between_them(self):
		frappe.db.set_single_value("CRM Sequence Settings", "min_gap_seconds", 30)
		sequence = make_sequence([{"step_type": "Automatic Email", "email_template": email_template()}])
		leads = [make_lead(email_id=f"{unique('g').replace(' ', '')}@example.com") for _ in range(6)]
		names = [enroll(sequence, "Lead", lead.name) for lead in leads]
		for name in names:
			make_due(name)
		frappe.db.commit()

		errors = run_in_two_workers(names[:3], names[3:])

		self.assertEqual(errors, [])
		sends = frappe.get_all(
			"CRM Sequence Step Run",
			filters={"enrollment": ("in", names)},
			pluck="send_at",
			order_by="send_at",
		)
		self.assertEqual(len(sends), 6)
		gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(sends)]
		self.assertGreaterEqual(min(gaps), 30)

	def test_a_worker_killed_before_its_chunk_commits_loses_no_step_and_sends_nothing_twice(self):
		sequence = make_sequence([{"step_type": "Automatic Email", "email_template": email_template()}])
		leads = [make_lead(email_id=f"{unique('k').replace(' ', '')}@example.com") for _ in range(4)]
		names = [enroll(sequence, "Lead", lead.name) for lead in leads]
		for name in names:
			make_due(name)
		frappe.db.commit()

		# a killed worker's connection drops and MariaDB rolls its transaction back: the same as a rollback
		self.assertEqual(run_killed_worker(names), [])
		self.assertEqual(frappe.db.count("CRM Sequence Step Run", {"enrollment": ("in", names)}), 0)
		self.assertEqual(
			set(
				frappe.get_all("CRM Sequence Enrollment", filters={"name": ("in", names)}, pluck="next_step")
			),
			{1},
		)

		self.assertEqual(run_in_two_workers(names, []), [])  # the next tick's worker
		frappe.db.rollback()  # a fresh snapshot, to see what the worker committed
		communications = frappe.get_all(
			"CRM Sequence Step Run", filters={"enrollment": ("in", names)}, pluck="communication"
		)
		self.assertEqual(len(communications), 4)
		self.assertEqual(frappe.db.count("Email Queue", {"communication": ("in", communications)}), 4)


def run_killed_worker(names: list[str]) -> list[str]:
	site, sites_path = frappe.local.site, frappe.local.sites_path
	errors: list[str] = []

	def work():
		frappe.init(site=site, sites_path=sites_path)
		frappe.connect()
		try:
			execute_chunk(names)
			frappe.db.rollback()
		except Exception as error:
			errors.append(repr(error))
		finally:
			frappe.destroy()

	worker = threading.Thread(target=work)
	worker.start()
	worker.join(timeout=300)
	return errors


def run_in_two_workers(first: list[str], second: list[str]) -> list[str]:
	site, sites_path = frappe.local.site, frappe.local.sites_path
	start = threading.Barrier(2)
	errors: list[str] = []

	def work(names: list[str]):
		frappe.init(site=site, sites_path=sites_path)
		frappe.connect()
		try:
			start.wait(timeout=30)
			execute_chunk(names)
			frappe.db.commit()  # as an RQ job ends
		except Exception as error:
			errors.append(repr(error))
		finally:
			frappe.destroy()

	workers = [threading.Thread(target=work, args=(names,)) for names in (first, second)]
	for worker in workers:
		worker.start()
	for worker in workers:
		worker.join(timeout=300)
	return errors
