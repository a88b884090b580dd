import frappe

from crm_extension.api.playbook import complete_step, skip_step
from crm_extension.sales_playbook.attach import sync_open_opportunities
from crm_extension.sales_playbook.tests.factories import (
	make_opportunity_type,
	make_playbook,
	make_playbook_opportunity,
	reset_caches,
	step,
)
from crm_extension.tests.utils import CRMTestCase


class TestPlaybookSteps(CRMTestCase):
	def setUp(self):
		reset_caches()
		self.opportunity_type = make_opportunity_type()
		self.playbook = make_playbook(opportunity_type=self.opportunity_type, stage_gate=1)
		self.opportunity = make_playbook_opportunity(opportunity_type=self.opportunity_type)

	def tearDown(self):
		reset_caches()

	def activities(self) -> int:
		return frappe.db.count(
			"CRM Activity", {"reference_doctype": "Opportunity", "reference_name": self.opportunity.name}
		)

	def test_completing_a_step_logs_one_activity_and_closes_its_todo_even_when_repeated(self):
		row = self.opportunity.playbook_steps[0]

		first = complete_step(self.opportunity.name, row.name, outcome="Interested", notes="Wants a demo")
		second = complete_step(self.opportunity.name, row.name, outcome="Not Interested")

		self.assertEqual(self.activities(), 1)
		activity = frappe.get_doc("CRM Activity", first["steps"][0]["activity"])
		self.assertEqual(
			(activity.outcome, activity.details, activity.channel), ("Interested", "Wants a demo", "Phone")
		)
		self.assertEqual(second["steps"][0]["activity"], activity.name)
		self.assertEqual(second["steps"][0]["status"], "Done")
		self.assertEqual(second["progress"], 33)
		self.assertEqual(frappe.db.get_value("ToDo", row.todo, "status"), "Closed")
		self.assertEqual(second["next_step"]["title"], "Send the summary")

	def test_stage_gate_names_the_open_mandatory_steps(self):
		self.opportunity.reload()
		self.opportunity.sales_stage = "Needs Analysis"

		with self.assertRaises(frappe.ValidationError) as raised:
			self.opportunity.save()

		message = str(raised.exception)
		self.assertIn("Call the buyer", message)
		self.assertIn("Qualify the deal", message)
		self.assertNotIn("Send the summary", message)

	def test_stage_gate_opens_once_the_mandatory_steps_are_done(self):
		for row in self.opportunity.playbook_steps:
			if row.mandatory and row.sales_stage == "Prospecting":
				complete_step(self.opportunity.name, row.name)
		self.opportunity.reload()
		self.opportunity.sales_stage = "Qualification"

		self.opportunity.save()

		self.assertEqual(
			frappe.db.get_value("Opportunity", self.opportunity.name, "sales_stage"), "Qualification"
		)

	def other_playbook(self, **values):
		return make_playbook(
			steps=[step("Send the brochure", action_type="Email", channel="Email")],
			opportunity_type=make_opportunity_type(),
			**values,
		)

	def move_with_playbook(self, playbook, stage: str):
		self.opportunity.reload()
		self.opportunity.sales_playbook = playbook
		self.opportunity.sales_stage = stage
		self.opportunity.save()

	def test_clearing_the_playbook_in_the_same_save_as_a_stage_move_does_not_skip_the_gate(self):
		with self.assertRaises(frappe.ValidationError) as raised:
			self.move_with_playbook(None, "Needs Analysis")

		self.assertIn("Call the buyer", str(raised.exception))
		self.assertEqual(
			frappe.db.get_value("Opportunity", self.opportunity.name, ["sales_playbook", "sales_stage"]),
			(self.playbook.name, "Prospecting"),
		)

	def test_switching_the_playbook_in_the_same_save_as_a_stage_move_does_not_skip_the_gate(self):
		other = self.other_playbook()

		with self.assertRaises(frappe.ValidationError) as raised:
			self.move_with_playbook(other.name, "Needs Analysis")

		self.assertIn("Qualify the deal", str(raised.exception))

	def test_switching_away_from_open_mandatory_steps_of_the_current_stage_is_refused(self):
		other = self.other_playbook()
		self.opportunity.reload()
		self.opportunity.sales_playbook = other.name

		with self.assertRaises(frappe.ValidationError) as raised:
			self.opportunity.save()

		self.assertIn("Call the buyer", str(raised.exception))
		self.assertNotIn("Qualify the deal", str(raised.exception))
		statuses = frappe.get_all(
			"Opportunity Playbook Step", {"parent": self.opportunity.name}, pluck="status"
		)
		self.assertEqual(sorted(statuses), ["Open", "Open", "Open"])

	def test_switching_playbooks_keeps_done_and_skipped_steps_as_history(self):
		call, summary, _qualify = self.opportunity.playbook_steps
		complete_step(self.opportunity.name, call.name)
		skip_step(self.opportunity.name, summary.name, reason="Not needed")
		other = self.other_playbook()

		self.opportunity.reload()
		self.opportunity.sales_playbook = other.name
		self.opportunity.save()

		stored = frappe.get_all(
			"Opportunity Playbook Step",
			{"parent": self.opportunity.name},
			["title", "status", "done_by"],
			order_by="idx asc",
		)
		self.assertEqual(
			[(row.title, row.status) for row in stored],
			[("Call the buyer", "Done"), ("Send the summary", "Skipped"), ("Send the brochure", "Open")],
		)
		self.assertTrue(all(row.done_by for row in stored[:2]))

	def test_a_playbook_the_engine_would_choose_waits_for_open_mandatory_steps(self):
		make_playbook(
			opportunity_type=self.opportunity_type,
			buyer_persona="Analytical",
			steps=[step("Send the data sheet", action_type="Email", channel="Email")],
		)
		self.opportunity.reload()
		self.opportunity.buyer_persona = "Analytical"

		self.opportunity.save()

		self.assertEqual(self.opportunity.sales_playbook, self.playbook.name)
		self.assertIn("Call the buyer", [row.title for row in self.opportunity.playbook_steps])

	def test_a_playbook_without_the_gate_can_be_switched_with_open_mandatory_steps(self):
		frappe.db.set_value("Sales Playbook", self.playbook.name, "stage_gate", 0)
		reset_caches()
		other = self.other_playbook()
		self.opportunity.reload()
		self.opportunity.sales_playbook = other.name

		self.opportunity.save()

		self.assertEqual(
			frappe.db.get_value("Opportunity", self.opportunity.name, "sales_playbook"), other.name
		)

	def test_editing_the_playbook_updates_open_steps_and_never_rewrites_done_ones(self):
		done, _summary, qualify = self.opportunity.playbook_steps
		complete_step(self.opportunity.name, done.name)
		playbook = frappe.get_doc("Sales Playbook", self.playbook.name)
		playbook.steps[0].title = "Call the buyer twice"
		playbook.steps[1].title = "Send a short summary"
		playbook.remove(playbook.steps[2])
		playbook.append(
			"steps", step("Book the demo", "Qualification", action_type="Demo", channel="Meeting")
		)
		playbook.save()

		sync_open_opportunities(playbook.name)

		rows = frappe.get_all(
			"Opportunity Playbook Step",
			filters={"parent": self.opportunity.name, "parenttype": "Opportunity"},
			fields=["name", "title", "status", "activity"],
			order_by="idx asc",
		)
		self.assertEqual(
			[(row.title, row.status) for row in rows],
			[("Call the buyer", "Done"), ("Send a short summary", "Open"), ("Book the demo", "Open")],
		)
		self.assertTrue(rows[0].activity)
		self.assertEqual(frappe.db.get_value("ToDo", qualify.todo, "status"), "Cancelled")
		self.assertTrue(frappe.db.exists("ToDo", {"crm_playbook_step": rows[2].name, "status": "Open"}))
		self.assertEqual(frappe.db.get_value("Opportunity", self.opportunity.name, "playbook_progress"), 33)

	def test_a_step_referring_to_a_missing_stage_template_or_technique_is_refused(self):
		cases = (
			({"sales_stage": "No Such Stage"}, "unknown sales stage No Such Stage"),
			({"email_template": "No Such Template"}, "unknown email template No Such Template"),
			({"closing_technique": "No Such Technique"}, "unknown closing technique No Such Technique"),
		)
		for values, message in cases:
			missing = message.rsplit(" ", 3)[-3:]
			# The desk form refuses the missing link first, naming it ...
			with self.subTest(message=message), self.assertRaises(frappe.ValidationError) as raised:
				make_playbook(steps=[step("Call the buyer", **values)])
			self.assertIn(" ".join(missing), str(raised.exception))
			# ... and the playbook's own check (engine check_step) refuses it where links are not checked.
			with self.subTest(message=message), self.assertRaises(frappe.ValidationError) as raised:
				playbook = frappe.get_doc(
					{"doctype": "Sales Playbook", "playbook_name": frappe.generate_hash(length=10)}
				)
				playbook.append("steps", step("Call the buyer", **values))
				playbook.flags.ignore_links = True
				playbook.insert(ignore_permissions=True)
			self.assertIn(f"Step 1 (Call the buyer) refers to an {message}", str(raised.exception))

	def test_an_unknown_action_or_negative_days_are_refused(self):
		with self.assertRaises(frappe.ValidationError):
			make_playbook(steps=[step("Call the buyer", due_after_days=-1)])

	def test_reversed_stage_range_is_refused(self):
		with self.assertRaises(frappe.ValidationError):
			make_playbook(from_stage="Negotiation/Review", to_stage="Prospecting")
