import frappe
from frappe.utils import add_days, getdate, today

from crm_extension.sales_playbook.tests.factories import (
	make_opportunity_type,
	make_playbook,
	make_playbook_opportunity,
	make_role,
	reset_caches,
	step,
)
from crm_extension.tests.factories import make_contact, make_lead, make_user
from crm_extension.tests.utils import CRMTestCase


def todos_of(opportunity: str, **filters) -> list:
	return frappe.get_all(
		"ToDo",
		filters={"reference_type": "Opportunity", "reference_name": opportunity, **filters},
		fields=["name", "allocated_to", "status", "date", "crm_playbook_step", "role"],
	)


class TestPlaybookAttachment(CRMTestCase):
	def setUp(self):
		reset_caches()
		self.opportunity_type = make_opportunity_type()
		self.playbook = make_playbook(opportunity_type=self.opportunity_type)

	def tearDown(self):
		frappe.set_user("Administrator")
		reset_caches()

	def test_the_matching_playbook_attaches_on_create_with_dated_steps(self):
		opportunity = make_playbook_opportunity(opportunity_type=self.opportunity_type)

		self.assertEqual(opportunity.sales_playbook, self.playbook.name)
		self.assertEqual(
			[row.title for row in opportunity.playbook_steps],
			["Call the buyer", "Send the summary", "Qualify the deal"],
		)
		self.assertEqual(
			[getdate(row.due_date) for row in opportunity.playbook_steps],
			[getdate(add_days(today(), days)) for days in (2, 4, 6)],
		)
		self.assertEqual({row.status for row in opportunity.playbook_steps}, {"Open"})
		self.assertEqual(opportunity.playbook_progress, 0)
		self.assertEqual(str(opportunity.stage_since), today())

	def test_an_opportunity_nothing_specific_matches_gets_the_default_playbook(self):
		opportunity = make_playbook_opportunity()

		self.assertEqual(opportunity.sales_playbook, "Default Sales Playbook")
		self.assertEqual(len(opportunity.playbook_steps), 17)

	def test_each_step_has_a_todo_for_the_owner(self):
		owner = make_user(["Sales User"])
		opportunity = make_playbook_opportunity(
			opportunity_type=self.opportunity_type, opportunity_owner=owner
		)

		todos = todos_of(opportunity.name)
		self.assertEqual(len(todos), 3)
		self.assertEqual({todo.allocated_to for todo in todos}, {owner})
		by_step = {todo.crm_playbook_step: todo for todo in todos}
		for row in opportunity.playbook_steps:
			self.assertEqual(by_step[row.name].name, row.todo)
			self.assertEqual(by_step[row.name].date, getdate(row.due_date))
		self.assertIn(
			owner, frappe.parse_json(frappe.db.get_value("Opportunity", opportunity.name, "_assign"))
		)

	def test_a_step_with_a_role_has_a_todo_for_every_user_of_the_role(self):
		role = make_role()
		accountants = sorted(make_user([role]) for _ in range(2))
		opportunity_type = make_opportunity_type()
		make_playbook(
			opportunity_type=opportunity_type,
			steps=[step("Call the buyer"), step("Check the credit", role=role, action_type="Proposal")],
		)

		opportunity = make_playbook_opportunity(opportunity_type=opportunity_type)

		credit_row = opportunity.playbook_steps[1]
		todos = todos_of(opportunity.name, crm_playbook_step=credit_row.name)
		self.assertEqual(sorted(todo.allocated_to for todo in todos), accountants)
		self.assertEqual({todo.role for todo in todos}, {role})
		self.assertIn(credit_row.todo, [todo.name for todo in todos])
		owner_todos = todos_of(opportunity.name, crm_playbook_step=opportunity.playbook_steps[0].name)
		self.assertEqual([todo.allocated_to for todo in owner_todos], ["Administrator"])

	def test_persona_is_inherited_from_the_contact_then_the_lead(self):
		lead = make_lead(buyer_persona="Driver")
		contact = make_contact([("Lead", lead.name)])
		frappe.db.set_value("Contact", contact.name, "buyer_persona", "Amiable")

		from_lead = make_playbook_opportunity(lead=lead.name)
		from_contact = make_playbook_opportunity(lead=lead.name, contact_person=contact.name)
		chosen = make_playbook_opportunity(lead=lead.name, buyer_persona="Analytical")

		self.assertEqual(from_lead.buyer_persona, "Driver")
		self.assertEqual(from_contact.buyer_persona, "Amiable")
		self.assertEqual(chosen.buyer_persona, "Analytical")

	def test_a_persona_playbook_takes_over_when_the_persona_is_set_and_keeps_done_steps(self):
		from crm_extension.api.playbook import complete_step

		persona_playbook = make_playbook(
			opportunity_type=self.opportunity_type,
			buyer_persona="Analytical",
			steps=[step("Send the data sheet", action_type="Email", channel="Email"), step("Call the buyer")],
		)
		opportunity = make_playbook_opportunity(opportunity_type=self.opportunity_type)
		done_row, open_row = opportunity.playbook_steps[0], opportunity.playbook_steps[1]
		complete_step(opportunity.name, done_row.name)

		opportunity.reload()
		opportunity.buyer_persona = "Analytical"
		opportunity.save()

		self.assertEqual(opportunity.sales_playbook, persona_playbook.name)
		titles = [(row.title, row.status) for row in opportunity.playbook_steps]
		# "Call the buyer" was done under the old playbook and has the same key: it is not added again.
		self.assertEqual(titles, [("Call the buyer", "Done"), ("Send the data sheet", "Open")])
		self.assertEqual(todos_of(opportunity.name, crm_playbook_step=open_row.name)[0].status, "Cancelled")
		self.assertEqual(opportunity.playbook_progress, 50)
