"""Bad input through every whitelisted method of the app, as a Sales User: property-based (hypothesis) over
types, lengths, unicode and other users' documents. Whatever comes in, a method either answers or refuses
with a 4xx and a message a person can read, and a refusal writes no row."""

import importlib
import inspect
import json
import pkgutil
import types
import typing
from collections import Counter

import frappe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crm_extension
from crm_extension.api.activity import log as log_activity
from crm_extension.tests.factories import make_customer, make_lead, make_opportunity, make_user
from crm_extension.tests.utils import CRMTestCase

# The signed webhook reads its body, not arguments; test_inbound_webhook and test_inbound_hardening cover it.
NOT_ARGUMENT_DRIVEN = {"crm_extension.api.inbound.receive"}
WATCHED_TABLES = (
	"CRM Activity",
	"Lead",
	"Opportunity",
	"Opportunity Playbook Step",
	"Comment",
	"ToDo",
	"Version",
	"Communication",
	"Customer Value Snapshot",
	"Lead Score Log",
	"Error Log",
)
EXAMPLES_PER_METHOD = 25
ODD_STRINGS = [
	"",
	" ",
	"'; drop table `tabLead`; --",
	"<img src=x onerror=alert(1)>",
	"سلام، این یک آزمایش است",
	"\u202eRTL override",
	"\x00",
	"9" * 400,
	"x" * 20_000,
	"{}",
	"[]",
	"null",
	"-1",
	"2026-02-30",
	"9999-12-31 23:59:59",
	"DOES-NOT-EXIST-0001",
]


def whitelisted_methods() -> list:
	for module in pkgutil.walk_packages(crm_extension.__path__, "crm_extension."):
		if ".tests" not in module.name and ".test_" not in module.name and ".patches" not in module.name:
			importlib.import_module(module.name)
	return sorted(
		(fn for fn in frappe.whitelisted if fn.__module__.startswith("crm_extension.")),
		key=lambda fn: f"{fn.__module__}.{fn.__name__}",
	)


def dotted(fn) -> str:
	return f"{fn.__module__}.{fn.__name__}"


def value_strategy(annotation, document_names: list[str]):
	members = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
	texts = st.one_of(st.text(max_size=60), st.sampled_from(ODD_STRINGS + document_names))
	choices = []
	for member in members:
		if member is type(None):
			choices.append(st.none())
		elif member is int or member is float:
			choices.append(st.integers(min_value=-(2**63), max_value=2**63))
			choices.append(texts)
		elif member is bool:
			choices.append(st.booleans())
			choices.append(texts)
		elif member in (dict, list) or typing.get_origin(member) in (dict, list):
			choices.append(st.just(json.dumps({"a": [1, None, "x" * 100]})))
			choices.append(texts)
		else:
			choices.append(texts)
	return st.one_of(*choices)


def arguments_strategy(fn, document_names: list[str]):
	parameters = inspect.signature(fn).parameters
	return st.fixed_dictionaries(
		{
			name: value_strategy(parameter.annotation, document_names)
			for name, parameter in parameters.items()
			if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
		}
	)


def row_counts() -> dict:
	return {doctype: frappe.db.count(doctype) for doctype in WATCHED_TABLES}


class TestBadInput(CRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		owner = make_user(["Sales User"])
		frappe.set_user(owner)
		lead = make_lead()
		customer = make_customer()
		opportunity = make_opportunity("Customer", customer.name)
		activity = log_activity("Lead", lead.name, "WhatsApp", "Outbound", subject="Their own activity")
		frappe.set_user("Administrator")
		cls.document_names = [lead.name, customer.name, opportunity.name, activity, owner, "Administrator"]
		cls.sales_user = make_user(["Sales User"])

	def setUp(self):
		frappe.set_user(self.sales_user)

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_every_whitelisted_method_answers_or_refuses_with_a_4xx_and_a_refusal_writes_nothing(self):
		methods = [fn for fn in whitelisted_methods() if dotted(fn) not in NOT_ARGUMENT_DRIVEN]
		self.assertGreaterEqual(len(methods), 15, [dotted(fn) for fn in methods])
		outcomes = Counter()
		problems = []
		for fn in methods:
			self.exercise(fn, outcomes, problems)
		print(
			f"bad input outcomes over {len(methods)} methods:",
			json.dumps(dict(sorted(outcomes.items())), ensure_ascii=False),
		)
		self.assertEqual(problems, [], "\n".join(problems[:20]))

	def exercise(self, fn, outcomes: Counter, problems: list):
		@settings(
			max_examples=EXAMPLES_PER_METHOD,
			deadline=None,
			derandomize=True,
			database=None,
			suppress_health_check=list(HealthCheck),
		)
		@given(arguments_strategy(fn, self.document_names))
		def call(arguments):
			outcome, problem = self.call_once(fn, arguments)
			outcomes[outcome] += 1
			if problem:
				problems.append(f"{dotted(fn)}({arguments!r:.300}): {problem}")

		call()

	def call_once(self, fn, arguments: dict) -> tuple[str, str | None]:
		frappe.clear_messages()
		before = row_counts()
		frappe.db.savepoint("bad_input")
		try:
			frappe.call(fn, **arguments)
		except Exception as error:
			return self.judge_refusal(error, before)
		finally:
			frappe.db.rollback(save_point="bad_input")
		return "answered", None

	def judge_refusal(self, error: Exception, before: dict) -> tuple[str, str | None]:
		status = getattr(error, "http_status_code", 500)
		message = str(error) or " ".join(json.loads(m).get("message", "") for m in frappe.message_log)
		written = {doctype: count for doctype, count in row_counts().items() if count != before[doctype]}
		problem = None
		if not 400 <= status < 500:
			problem = f"HTTP {status} from {type(error).__name__}: {error!s:.200}"
		elif not message.strip() or "Traceback" in message:
			problem = f"HTTP {status} without a readable message"
		elif written:
			problem = f"refused with HTTP {status} but wrote rows: {written}"
		return f"{status} {type(error).__name__}", problem
