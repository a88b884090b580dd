"""Sequences with a history: the email templates and two sequences a sales manager sets up, open Leads and
Opportunities enrolled by their owners, and the steps executed by the app's own ``execute_chunk`` in rounds
(an enrollment's clock moved back before each round), so some are at step 2 or 3, some finished; some
emails opened and clicked, some parties replied, met or were taken out by hand.

The history is made in one sitting: its steps run as if the sending window were open and no day a holiday
(the demo may be generated on a weekend or at night); the enrollments still open afterwards get their next
step's time from the real calendar. Which parties do what comes from the demo's seed, in a stable order."""

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import frappe
from frappe.utils import add_to_date, get_system_timezone, getdate, now_datetime, today

from crm_extension.demo.people import SALES_USERS
from crm_extension.demo.plan import plan as plan_stories
from crm_extension.demo.profiles import Profile, Sizes

TEMPLATES = {
	"en": {
		"intro": (
			"Demo: Introduction",
			"Office equipment for {{ company_name or lead_name }}",
			"<p>Hello {{ first_name or lead_name }},</p>"
			"<p>I look after companies in {{ city or 'your area' }} at Brightline Office Supply: laptops, "
			"monitors, printers and networks, delivered and set up within a week.</p>"
			'<p>Our <a href="https://brightline.example.com/catalogue">catalogue</a> has this season\'s '
			"prices. Would a 15-minute call next week help you see what fits?</p>"
			"<p>Best regards</p>",
		),
		"breakup": (
			"Demo: Break-up",
			"Should I close your file, {{ first_name or lead_name }}?",
			"<p>Hello {{ first_name or lead_name }},</p>"
			"<p>I have tried to reach you a few times and have not heard back, so I will assume the timing "
			"is not right and stop writing.</p>"
			'<p>If that changes, our <a href="https://brightline.example.com/contact">contact page</a> '
			"reaches me directly.</p><p>All the best</p>",
		),
		"proposal_a": (
			"Demo: Proposal follow-up",
			"Your proposal from Brightline Office Supply",
			"<p>Hello,</p><p>Did you have a chance to look at the proposal for "
			"{{ customer_name or title }}? I am happy to walk your team through it.</p>"
			'<p>The <a href="https://brightline.example.com/proposal-faq">answers to common questions</a> '
			"cover delivery, warranty and payment terms.</p><p>Best regards</p>",
		),
		"proposal_b": (
			"Demo: Proposal follow-up (short)",
			"Any questions on the proposal?",
			"<p>Hi,</p><p>Quick one: is anything in our proposal holding you back? A one-line reply is "
			'enough. <a href="https://brightline.example.com/book">Book a call</a> if it is easier.</p>',
		),
	},
	"fa": {
		"intro": (
			"نمونه: معرفی",
			"تجهیزات اداری برای {{ company_name or lead_name }}",
			"<p>{{ first_name or lead_name }} عزیز، سلام</p>"
			"<p>من مسئول همکاری با شرکت‌های {{ city or 'شهر شما' }} در شرکت تجهیزات اداری روشن هستم: "
			"لپ‌تاپ، مانیتور، چاپگر و شبکه، با تحویل و نصب در کمتر از یک هفته.</p>"
			'<p><a href="https://roshan.example.com/catalogue">کاتالوگ</a> ما قیمت‌های این فصل را دارد. '
			"آیا یک تماس ۱۵ دقیقه‌ای در هفته آینده برایتان مفید است؟</p><p>با احترام</p>",
		),
		"breakup": (
			"نمونه: خداحافظی",
			"پرونده شما را ببندم، {{ first_name or lead_name }}؟",
			"<p>{{ first_name or lead_name }} عزیز، سلام</p>"
			"<p>چند بار با شما تماس گرفتم و پاسخی نگرفتم؛ گمان می‌کنم الان زمان مناسبی نیست و دیگر "
			"مزاحم نمی‌شوم.</p>"
			'<p>هر وقت لازم شد، از <a href="https://roshan.example.com/contact">صفحه تماس</a> مستقیم به من '
			"می‌رسید.</p><p>با آرزوی موفقیت</p>",
		),
		"proposal_a": (
			"نمونه: پیگیری پیشنهاد",
			"پیشنهاد قیمت شرکت تجهیزات اداری روشن",
			"<p>سلام،</p><p>فرصت کردید پیشنهاد قیمت {{ customer_name or title }} را ببینید؟ خوشحال می‌شوم "
			"آن را با همکارانتان مرور کنم.</p>"
			'<p><a href="https://roshan.example.com/proposal-faq">پاسخ پرسش‌های رایج</a> درباره تحویل، '
			"گارانتی و شرایط پرداخت است.</p><p>با احترام</p>",
		),
		"proposal_b": (
			"نمونه: پیگیری پیشنهاد (کوتاه)",
			"سؤالی درباره پیشنهاد دارید؟",
			"<p>سلام،</p><p>چیزی در پیشنهاد ما هست که مانع تصمیم شما باشد؟ یک خط پاسخ کافی است. اگر "
			'راحت‌ترید <a href="https://roshan.example.com/book">زمان تماس</a> را انتخاب کنید.</p>',
		),
	},
}

FOLLOW_UP = {"en": "New lead follow-up", "fa": "پیگیری سرنخ جدید"}
PROPOSAL = {"en": "Proposal chase", "fa": "پیگیری پیشنهاد قیمت"}
TASKS = {
	"en": {
		"call": "Call to ask whether the introduction email arrived and what they need this quarter.",
		"message": "On the channel they answer most: share the catalogue link, offer a call when it suits them.",
		"proposal_call": "Call about the proposal: questions, decision date, who else decides.",
		"description_follow_up": "Four touches over about a week for a new Lead; stops when they answer.",
		"description_proposal": "After a proposal is sent: an email (two versions tested) and a call.",
		"reply": "Thanks for your email. Yes, let's talk next week, please send a few times.",
		"reply_subject": "Re: {0}",
		"unenroll": "Asked to be contacted again next quarter",
	},
	"fa": {
		"call": "تماس بگیرید و بپرسید ایمیل معرفی رسیده و این فصل به چه نیاز دارند.",
		"message": "از راهی که بیشتر پاسخ می‌دهند: لینک کاتالوگ را بفرستید و یک تماس در زمان دلخواهشان پیشنهاد دهید.",
		"proposal_call": "تماس درباره پیشنهاد: سؤال‌ها، زمان تصمیم، چه کسان دیگری تصمیم می‌گیرند.",
		"description_follow_up": "چهار پیگیری در حدود یک هفته برای سرنخ جدید؛ با پاسخ مشتری متوقف می‌شود.",
		"description_proposal": "پس از ارسال پیشنهاد: یک ایمیل (دو نسخه آزمایشی) و یک تماس.",
		"reply": "ممنون از ایمیل شما. بله، هفته آینده صحبت کنیم؛ لطفاً چند زمان پیشنهاد دهید.",
		"reply_subject": "پاسخ: {0}",
		"unenroll": "خواستند فصل بعد دوباره با آن‌ها تماس بگیریم",
	},
}
DEMO_ACCOUNT = "Demo Outgoing"
MAX_LEADS, MAX_OPPORTUNITIES = 36, 8
LEAD_DEPTHS = ((1, 2, 3, 4), (30, 30, 25, 15))  # how many steps an enrollment has reached, and how often
FATES = (("Replied", "Meeting", "Unenrolled", None), (24, 10, 8, 58))  # what happened after its last step
OPEN_RATE, CLICK_RATE = 0.5, 0.35  # of the sent emails; of the opened ones


@dataclass
class Plan:
	name: str  # the enrollment
	key: str  # a stable order across runs (document names are not)
	doctype: str
	reference: str
	depth: int
	fate: str | None
	answer: tuple[str, str] | None = None  # the reply or meeting that ended it


def all_names(lang: str | None = None) -> tuple[list[str], list[str]]:
	"""The language's sequence and template names (every language's without one): the reset removes them."""
	langs = [lang] if lang else list(TEMPLATES)
	sequences = [names[code] for code in langs for names in (FOLLOW_UP, PROPOSAL)]
	templates = [template[0] for code in langs for template in TEMPLATES[code].values()]
	return sequences, templates


def make_sequences(profile: Profile, sizes: Sizes, owners: list[str]) -> dict[str, int]:
	lang = profile.lang
	rng = random.Random(sizes.seed + 19)
	ensure_outgoing_account(profile)
	templates = ensure_templates(lang)
	follow_up, proposal = ensure_sequences(lang, templates)
	plans = enroll_parties(profile, sizes, rng, follow_up, proposal, owners)
	with history_calendar():
		for round_number in range(1, 5):
			due = [plan for plan in plans if plan.depth >= round_number and _active(plan.name)]
			_make_due([plan.name for plan in due])
			execute_due([plan.name for plan in due])
			for plan in plans:
				if plan.depth == round_number and plan.fate:
					end_with(plan, lang)
	engagement = opens_and_clicks(rng, plans)
	backdate(plans, profile)
	schedule_open_enrollments([plan.name for plan in plans])
	return counts(plans, templates, engagement)


# -- masters ------------------------------------------------------------------------------------------------


def ensure_outgoing_account(profile: Profile) -> str:
	"""Sequence emails go through an outgoing Email Account (the demo site mutes sending)."""
	existing = frappe.db.get_value("Email Account", {"enable_outgoing": 1, "default_outgoing": 1}, "name")
	if existing:
		return existing
	return (
		frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": DEMO_ACCOUNT,
				"email_id": "sales@demo.localhost",
				"enable_outgoing": 1,
				"default_outgoing": 1,
				"smtp_server": "localhost",
				"no_smtp_authentication": 1,
				"awaiting_password": 0,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def ensure_templates(lang: str) -> dict[str, str]:
	names = {}
	for key, (name, subject, body) in TEMPLATES[lang].items():
		if not frappe.db.exists("Email Template", name):
			frappe.get_doc(
				{
					"doctype": "Email Template",
					"name": name,
					"subject": subject,
					"use_html": 1,
					"response_html": body,
				}
			).insert(ignore_permissions=True)
		names[key] = name
	return names


def ensure_sequences(lang: str, templates: dict[str, str]) -> tuple[str, str]:
	tasks = TASKS[lang]
	follow_up = _sequence(
		FOLLOW_UP[lang],
		tasks["description_follow_up"],
		[
			{"step_type": "Automatic Email", "delay_days": 0, "email_template": templates["intro"]},
			{"step_type": "Call Task", "delay_days": 2, "task_text": tasks["call"]},
			{
				"step_type": "Messaging Task",
				"delay_days": 2,
				"on_preferred_channel": 1,
				"channel": "WhatsApp",
				"task_text": tasks["message"],
			},
			{"step_type": "Automatic Email", "delay_days": 3, "email_template": templates["breakup"]},
		],
		[{"trigger": "Lead Grade", "value": "A"}],
	)
	proposal = _sequence(
		PROPOSAL[lang],
		tasks["description_proposal"],
		[
			{
				"step_type": "Automatic Email",
				"delay_days": 0,
				"email_template": templates["proposal_a"],
				"variant_b_template": templates["proposal_b"],
			},
			{"step_type": "Call Task", "delay_days": 3, "task_text": tasks["proposal_call"]},
		],
		[],
	)
	return follow_up, proposal


def _sequence(title: str, description: str, steps: list[dict], triggers: list[dict]) -> str:
	if frappe.db.exists("CRM Sequence", title):
		return title
	doc = frappe.get_doc(
		{"doctype": "CRM Sequence", "title": title, "enabled": 1, "description": description}
	)
	for step in steps:
		doc.append("steps", step)
	for trigger in triggers:
		doc.append("triggers", trigger)
	return doc.insert(ignore_permissions=True).name


# -- enrollments ------------------------------------------------------------------------------------------


def enroll_parties(
	profile: Profile, sizes: Sizes, rng: random.Random, follow_up: str, proposal: str, owners: list[str]
):
	"""Open Leads (no deal yet) in the follow-up, open Opportunities in the proposal chase, each enrolled
	with its owner as the sender."""
	from crm_extension.sequences.enrollment import enroll

	# the Leads the demo's story leaves open (a given-up Lead may keep the status "Lead")
	still_open = [
		story.email
		for story in plan_stories(profile.lang, sizes, getdate(today()), len(SALES_USERS))
		if story.outcome == "open"
	]
	leads = frappe.get_all(
		"Lead",
		{
			"company": profile.company,
			"email_id": ("in", still_open or [""]),
			"status": ("in", ("Lead", "Open", "Replied", "Interested")),
			"lead_owner": ("in", owners),
		},
		["name", "email_id as sort_key", "lead_owner as owner"],
	)
	opportunities = frappe.get_all(
		"Opportunity",
		{
			"company": profile.company,
			"status": ("in", ("Open", "Replied")),  # a Quotation or a Lost deal would exit at once
			"opportunity_owner": ("in", owners),
		},
		["name", "contact_email", "party_name", "opportunity_owner as owner"],
	)
	lead_emails = dict(
		frappe.get_all("Lead", {"company": profile.company}, ["name", "email_id"], as_list=True)
	)
	for row in opportunities:
		row.sort_key = row.contact_email or lead_emails.get(row.party_name) or row.name
	chosen = [("Lead", follow_up, row, 4) for row in _pick(rng, leads, MAX_LEADS)] + [
		("Opportunity", proposal, row, 2) for row in _pick(rng, opportunities, MAX_OPPORTUNITIES)
	]
	plans = []
	for doctype, sequence, row, steps in chosen:
		name = enroll(sequence, doctype, row.name, row.owner)
		depth = _draw(rng, LEAD_DEPTHS) if steps == 4 else rng.choice((1, 1, 2))
		fate = _draw(rng, FATES) if depth < steps else None
		plans.append(Plan(name, row.sort_key, doctype, row.name, depth, fate))
	return plans


def _pick(rng: random.Random, rows: list, most: int) -> list:
	rows = sorted(rows, key=lambda row: row.sort_key)
	return sorted(rng.sample(rows, min(most, len(rows))), key=lambda row: row.sort_key)


def _draw(rng: random.Random, choices: tuple) -> object:
	values, weights = choices
	return rng.choices(values, weights=weights)[0]


def _active(enrollment: str) -> bool:
	return frappe.db.get_value("CRM Sequence Enrollment", enrollment, "status") == "Active"


def _make_due(names: list[str]):
	"""The enrollment's clock moved back: its next step is due now."""
	if names:
		frappe.db.set_value(
			"CRM Sequence Enrollment",
			{"name": ("in", names)},
			"next_step_at",
			add_to_date(now_datetime(), minutes=-1),
			update_modified=False,
		)


def execute_due(names: list[str]):
	from crm_extension.sequences.execute import execute_chunk

	for start in range(0, len(names), 50):
		execute_chunk(names[start : start + 50])


@contextmanager
def history_calendar():
	"""Steps run whenever the demo is generated: no holidays, the window open all day."""
	from crm_extension.sequences import execute
	from crm_extension.sequences.calendar import SendingCalendar

	real = execute.sending_calendar
	execute.sending_calendar = lambda company=None: SendingCalendar(
		frozenset(), time(0), time(23, 59, 59), get_system_timezone()
	)
	try:
		yield
	finally:
		execute.sending_calendar = real


def schedule_open_enrollments(names: list[str]):
	"""Enrollments still open wait for their next step on the company's real calendar and window."""
	from crm_extension.sequences.calendar import sending_calendar
	from crm_extension.sequences.parties import load_parties

	rows = frappe.get_all(
		"CRM Sequence Enrollment",
		{"name": ("in", names or [""]), "status": "Active"},
		["name", "sequence", "next_step", "reference_doctype", "reference_name"],
	)
	parties = load_parties([(row.reference_doctype, row.reference_name) for row in rows])
	now = now_datetime()
	for row in rows:
		party = parties.get((row.reference_doctype, row.reference_name))
		delay = frappe.db.get_value(
			"CRM Sequence Step", {"parent": row.sequence, "idx": row.next_step}, "delay_days"
		)
		due = sending_calendar(party.company).due(now, delay or 0, party.timezone)
		frappe.db.set_value("CRM Sequence Enrollment", row.name, "next_step_at", due, update_modified=False)


# -- what the parties did ---------------------------------------------------------------------------------


def end_with(plan: Plan, lang: str):
	"""The party answered the last step, met the salesperson, or the salesperson took it out by hand."""
	from crm_extension.api.sequence import unenroll
	from crm_extension.sequences.exits import check_document

	if not _active(plan.name):
		return
	if plan.fate == "Unenrolled":
		unenroll(plan.name, TASKS[lang]["unenroll"])
		return
	enrollment = frappe.db.get_value(
		"CRM Sequence Enrollment", plan.name, ["sender", "reference_doctype", "reference_name"], as_dict=True
	)
	if plan.fate == "Meeting":
		plan.answer = ("CRM Activity", _meeting(enrollment))
	else:
		plan.answer = ("Communication", _reply(plan, enrollment, lang))
	check_document(*plan.answer)


def _meeting(enrollment) -> str:
	return (
		frappe.get_doc(
			{
				"doctype": "CRM Activity",
				"channel": "Meeting",
				"direction": "Outbound",
				"outcome": "Meeting Held",
				"activity_at": now_datetime(),
				"duration": 3600,
				"performed_by": enrollment.sender,
				"reference_doctype": enrollment.reference_doctype,
				"reference_name": enrollment.reference_name,
				"source": "Manual",
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def _reply(plan: Plan, enrollment, lang: str) -> str:
	"""An email from the party in the thread of the sequence's last email (or about the party)."""
	last_email = frappe.get_all(
		"CRM Sequence Step Run",
		{"enrollment": plan.name, "communication": ("is", "set")},
		["communication"],
		order_by="step_idx desc",
		limit=1,
	)
	subject = (
		frappe.db.get_value("Communication", last_email[0].communication, "subject") if last_email else ""
	)
	return (
		frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": "Email",
				"sent_or_received": "Received",
				"sender": plan.key,
				"recipients": enrollment.sender,
				"subject": TASKS[lang]["reply_subject"].format(subject),
				"content": f"<p>{TASKS[lang]['reply']}</p>",
				"communication_date": now_datetime(),
				"reference_doctype": enrollment.reference_doctype,
				"reference_name": enrollment.reference_name,
				"in_reply_to": last_email[0].communication if last_email else None,
				"status": "Linked",
				"seen": 0,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def opens_and_clicks(rng: random.Random, plans: list[Plan]) -> dict[str, int]:
	"""Opens as the host's tracking pixel records them; clicks through the app's click recorder."""
	from crm_extension.api.sequence import record_click

	order = {plan.name: plan.key for plan in plans}
	runs = frappe.get_all(
		"CRM Sequence Step Run",
		{"enrollment": ("in", list(order) or [""]), "communication": ("is", "set")},
		["name", "enrollment", "step_idx", "communication"],
	)
	replied = {plan.name for plan in plans if plan.fate == "Replied"}
	opened = clicked = 0
	for run in sorted(runs, key=lambda run: (order[run.enrollment], run.step_idx)):
		if rng.random() < OPEN_RATE or run.enrollment in replied:
			frappe.db.set_value(
				"Communication",
				run.communication,
				{"read_by_recipient": 1, "read_by_recipient_on": now_datetime(), "delivery_status": "Read"},
				update_modified=False,
			)
			opened += 1
			if rng.random() < CLICK_RATE:
				record_click(run.name)
				clicked += 1
	return {"sequence emails opened": opened, "sequence emails clicked": clicked}


# -- when it happened ---------------------------------------------------------------------------------------

ROUND_DAYS_AGO = (8, 6, 4, 1)  # working days before today that each round's steps ran


def backdate(plans: list[Plan], profile: Profile):
	"""The rounds ran just now; put them on past working days, as if the sequences had run for a week and
	a half: enrollment, each step (its email or task), the opens and clicks, and the answer that ended it."""
	days = [working_day_before(getdate(today()), ago, profile) for ago in ROUND_DAYS_AGO]
	for number, plan in enumerate(plans):
		at = [datetime.combine(day, time(9, 30)) + timedelta(minutes=11 * number) for day in days]
		_set("CRM Sequence Enrollment", plan.name, {"enrolled_on": at[0], "creation": at[0]})
		runs = frappe.get_all(
			"CRM Sequence Step Run",
			{"enrollment": plan.name},
			["name", "step_idx", "communication", "todo", "clicked_on"],
		)
		for run in runs:
			moment = at[run.step_idx - 1]
			values = {"executed_at": moment, "creation": moment}
			_set(
				"CRM Sequence Step Run",
				run.name,
				{**values, "send_at": moment} if run.communication else values,
			)
			if run.clicked_on:
				_set("CRM Sequence Step Run", run.name, {"clicked_on": moment + timedelta(hours=4)})
			if run.communication:
				_date_email(run.communication, moment)
			if run.todo:
				_set("ToDo", run.todo, {"date": moment.date(), "creation": moment})
		ended = at[plan.depth - 1] + timedelta(hours=5)
		if plan.answer:
			doctype, name = plan.answer
			field = "communication_date" if doctype == "Communication" else "activity_at"
			_set(doctype, name, {field: ended, "creation": ended})
		if frappe.db.get_value("CRM Sequence Enrollment", plan.name, "exited_on"):
			_set("CRM Sequence Enrollment", plan.name, {"exited_on": ended})


def _date_email(communication: str, moment: datetime):
	values = {"communication_date": moment, "creation": moment}
	if frappe.db.get_value("Communication", communication, "read_by_recipient"):
		values["read_by_recipient_on"] = moment + timedelta(hours=3)
	_set("Communication", communication, values)


def _set(doctype: str, name: str, values: dict):
	modified = max(value for value in values.values() if isinstance(value, datetime))
	frappe.db.set_value(doctype, name, {**values, "modified": modified}, update_modified=False)


def working_day_before(day: date, working_days: int, profile: Profile) -> date:
	while working_days:
		day -= timedelta(days=1)
		if day.strftime("%A") not in profile.weekly_off:
			working_days -= 1
	return day


def counts(plans: list[Plan], templates: dict, engagement: dict) -> dict[str, int]:
	names = [plan.name for plan in plans] or [""]
	runs = frappe.get_all(
		"CRM Sequence Step Run", {"enrollment": ("in", names)}, ["communication", "todo", "status"]
	)
	emails = [run.communication for run in runs if run.communication]
	states = frappe.get_all("CRM Sequence Enrollment", {"name": ("in", names)}, ["status", "exit_reason"])
	ends: dict[str, int] = {}
	for row in states:
		ends[row.exit_reason or row.status] = ends.get(row.exit_reason or row.status, 0) + 1
	result = {
		"email templates": len(templates),
		"sequences": 2,
		"sequence enrollments": len(plans),
		"sequence steps executed": len(runs),
		"sequence emails sent": len(emails),
		"sequence emails in the Email Queue": frappe.db.count(
			"Email Queue", {"communication": ("in", emails)}
		)
		if emails
		else 0,
		"sequence tasks": sum(1 for run in runs if run.todo),
		**engagement,
	}
	result.update({f"enrollments {reason}": ends[reason] for reason in sorted(ends)})
	return result
