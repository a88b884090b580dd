"""The demo generator at small scale on a real ERPNext site: every screen the demo shows has data, and a
second run refreshes the data instead of adding to it."""

import frappe
from frappe.utils import add_days, today

from crm_extension.demo.profiles import profile_for
from crm_extension.demo.run import generate
from crm_extension.demo.sequences import all_names
from crm_extension.tests.utils import CRMTestCase

COMPANY = profile_for("en").company


def demo_counts() -> dict[str, int]:
	"""What the demo company has, by kind of record (the demo's own Leads, Customers and their records)."""
	leads = frappe.get_all("Lead", {"company": COMPANY}, pluck="name")
	customers = frappe.get_all("Customer", {"lead_name": ("in", leads)}, pluck="name")
	about_leads = {"reference_doctype": "Lead", "reference_name": ("in", leads)}
	counts = {
		doctype: frappe.db.count(doctype, {"company": COMPANY})
		for doctype in (
			"Lead",
			"Opportunity",
			"Quotation",
			"Sales Order",
			"Delivery Note",
			"Sales Invoice",
			"Payment Entry",
			"Stock Entry",
			"Customer Value Snapshot",
		)
	}
	counts["Customer"] = len(customers)
	counts["CRM Activity"] = frappe.db.count("CRM Activity", about_leads)
	counts["Communication"] = frappe.db.count("Communication", about_leads)
	counts["Call Log"] = len(
		frappe.get_all(
			"Dynamic Link",
			{"parenttype": "Call Log", "link_name": ("in", leads)},
			pluck="parent",
			distinct=True,
		)
	)
	counts["Event"] = frappe.db.count("Event Participants", {"reference_docname": ("in", leads)})
	counts["Contact"] = frappe.db.count(
		"Dynamic Link", {"parenttype": "Contact", "link_name": ("in", leads + customers)}
	)
	counts["Opportunity Playbook Step"] = frappe.db.count(
		"Opportunity Playbook Step",
		{"parent": ("in", frappe.get_all("Opportunity", {"company": COMPANY}, pluck="name"))},
	)
	counts.update(sequence_counts(leads + frappe.get_all("Opportunity", {"company": COMPANY}, pluck="name")))
	return counts


def sequence_counts(parties: list[str]) -> dict[str, int]:
	"""The demo's sequences and their history: enrollments of its Leads and Opportunities, the steps they
	ran, the emails sent, opened and clicked, and the exits by reason."""
	sequences, templates = all_names("en")
	enrollments = frappe.get_all(
		"CRM Sequence Enrollment",
		{"reference_name": ("in", parties), "sequence": ("in", sequences)},
		["name", "status", "exit_reason"],
	)
	names = [row.name for row in enrollments] or [""]
	emails = frappe.get_all(
		"CRM Sequence Step Run",
		{"enrollment": ("in", names), "communication": ("is", "set")},
		pluck="communication",
	)
	counts = {
		"CRM Sequence": frappe.db.count("CRM Sequence", {"name": ("in", sequences)}),
		"Email Template": frappe.db.count("Email Template", {"name": ("in", templates)}),
		"CRM Sequence Enrollment": len(enrollments),
		"CRM Sequence Step Run": frappe.db.count("CRM Sequence Step Run", {"enrollment": ("in", names)}),
		"sequence email": len(emails),
		"sequence email opened": frappe.db.count(
			"Communication", {"name": ("in", emails or [""]), "read_by_recipient": 1}
		),
		"sequence email clicked": frappe.db.count(
			"CRM Sequence Step Run", {"enrollment": ("in", names), "clicked_on": ("is", "set")}
		),
		"enrollment past step 2": frappe.db.count(
			"CRM Sequence Step Run", {"enrollment": ("in", names), "step_idx": (">=", 3)}
		),
	}
	for reason in ("Replied", "Meeting", "Unenrolled"):
		counts[f"enrollment exited: {reason}"] = sum(1 for row in enrollments if row.exit_reason == reason)
	counts["enrollment active"] = sum(1 for row in enrollments if row.status == "Active")
	return counts


class TestDemoData(CRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.first = generate("en", "small")
		cls.after_first = demo_counts()

	def test_a_second_run_refreshes_without_duplicating(self):
		second = generate("en", "small")
		self.assertEqual(demo_counts(), self.after_first)
		self.assertEqual(
			{k: v for k, v in second.items() if k != "seconds"},
			{k: v for k, v in self.first.items() if k != "seconds"},
		)
		self.assertEqual(frappe.db.count("User", {"name": ("like", "%@demo.localhost")}), 4)

	def test_every_kind_of_history_is_made(self):
		for doctype, count in self.after_first.items():
			with self.subTest(doctype=doctype):
				self.assertGreater(count, 0)
		unpaid = frappe.db.count(
			"Sales Invoice", {"company": COMPANY, "docstatus": 1, "outstanding_amount": (">", 0)}
		)
		self.assertGreater(self.after_first["Payment Entry"], 0)
		self.assertGreater(unpaid, 0, "some invoices are still to be paid")

	def test_the_lead_list_has_grades_and_owners(self):
		leads = frappe.get_all("Lead", {"company": COMPANY}, ["lead_grade", "lead_owner", "creation"])
		self.assertTrue(all(lead.lead_grade for lead in leads))
		self.assertEqual({lead.lead_owner for lead in leads}, {f"sales{n}@demo.localhost" for n in (1, 2, 3)})
		self.assertLess(
			min(lead.creation for lead in leads).date(), frappe.utils.getdate(add_days(today(), -60))
		)

	def test_customers_have_tiers_and_a_purchase_history(self):
		from crm_extension.api.customer_value import profile

		customers = frappe.get_all("Customer", {"value_tier": ("is", "set")}, ["name", "value_tier"])
		self.assertTrue(customers)
		answer = profile(customers[0].name)
		self.assertTrue(answer)

	def test_opportunities_follow_the_playbook(self):
		opportunities = frappe.get_all("Opportunity", {"company": COMPANY}, ["name", "status"])
		statuses = {row.status for row in opportunities}
		self.assertTrue({"Converted", "Lost"} <= statuses, statuses)
		still_open = [row.name for row in opportunities if row.status not in ("Converted", "Lost", "Closed")]
		self.assertTrue(still_open)
		steps = frappe.get_all(
			"Opportunity Playbook Step", {"parent": ("in", still_open)}, ["status", "done_on"]
		)
		self.assertIn("Open", {step.status for step in steps})
		self.assertIn("Done", {step.status for step in steps})
		self.assertTrue(all(step.done_on < frappe.utils.getdate(today()) for step in steps if step.done_on))

	def test_crm_hub_cards_and_reports_have_numbers(self):
		from crm_extension.activity_log.report.activity_by_channel.activity_by_channel import (
			execute as by_channel,
		)
		from crm_extension.api.playbook import overdue_steps_card
		from crm_extension.customer_value.report.rfm_segments.rfm_segments import execute as rfm
		from crm_extension.sales_playbook.report.playbook_pipeline.playbook_pipeline import (
			execute as pipeline,
		)

		self.assertIsInstance(overdue_steps_card()["value"], int)
		self.assertGreater(frappe.db.count("Customer", {"value_tier": ("is", "set")}), 0)
		self.assertGreater(frappe.db.count("Lead", {"company": COMPANY, "lead_grade": ("in", ("A", "B"))}), 0)
		self.assertTrue(by_channel({"from_date": add_days(today(), -365), "to_date": today()})[1])
		self.assertTrue(rfm({})[1])
		self.assertTrue(pipeline({})[1])

	def test_sequences_have_a_history_in_the_report(self):
		from crm_extension.sequences.report.sequence_performance.sequence_performance import (
			execute as performance,
		)

		self.assertEqual(self.after_first["CRM Sequence"], 2)
		self.assertGreaterEqual(self.after_first["CRM Sequence Enrollment"], 10)
		self.assertEqual(self.first["sequence enrollments"], self.after_first["CRM Sequence Enrollment"])
		self.assertEqual(
			frappe.get_all("CRM Sequence Trigger", {"parent": "New lead follow-up"}, ["trigger", "value"]),
			[{"trigger": "Lead Grade", "value": "A"}],
		)
		senders = frappe.get_all(
			"CRM Sequence Enrollment", {"sequence": "New lead follow-up"}, pluck="sender"
		)
		self.assertEqual(len(set(senders)), 3, "each sales user sends to their own Leads")
		rows = performance({"sequence": "New lead follow-up"})[1]
		sequence_row = rows[0]
		for number in ("emails_sent", "opened", "clicked", "replied", "meetings"):
			self.assertGreater(sequence_row.get(number) or 0, 0, f"{number}: {sequence_row}")
