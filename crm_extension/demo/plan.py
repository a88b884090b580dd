"""The demo's story, planned in plain Python from a fixed seed: who each Lead is, how and when the team
talked to it, whether it became a deal, a customer, or went cold, and what the customer bought and paid.

No Frappe here: the modules beside it turn a plan into documents, in time order where the host needs it
(stock and ledgers)."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from crm_extension.demo.names import CITIES, COMPANY_KINDS, COMPANY_WORDS, FIRST_NAMES, LAST_NAMES, spelled
from crm_extension.demo.profiles import Sizes
from crm_extension.demo.texts import ITEMS
from crm_extension.sales_playbook.engine.knowledge import SALES_STAGES

STAGES = SALES_STAGES  # ERPNext's Sales Stages, in order (the default playbook's steps name them)
PROPOSAL_STAGE = STAGES.index("Proposal/Price Quote")
PERSONAS = ("Driver", "Amiable", "Expressive", "Analytical")
# Lead Source records ERPNext ships, with how likely a lead from there buys.
SOURCES = (
	("Reference", 0.75, 3),
	("Existing Customer", 0.7, 1),
	("Exhibition", 0.55, 2),
	("Campaign", 0.45, 3),
	("Advertisement", 0.4, 3),
	("Walk In", 0.45, 1),
	("Cold Calling", 0.25, 4),
	("Mass Mailing", 0.2, 3),
)
INDUSTRIES = (
	"Manufacturing",
	"Retail & Wholesale",
	"Health Care",
	"Education",
	"Food, Beverage & Tobacco",
	"Transportation",
)
EMPLOYEES = (("1-10", -0.1), ("11-50", 0.0), ("51-200", 0.05), ("201-500", 0.1), ("501-1000", 0.15))
MESSAGE_CHANNELS = ("WhatsApp", "WhatsApp", "Telegram", "SMS")


@dataclass(frozen=True)
class Touch:
	kind: str  # email, call, meeting, message, visit
	at: datetime
	inbound: bool
	channel: str
	answered: bool
	variant: int  # which text of its kind


@dataclass(frozen=True)
class Deal:
	created: datetime
	stage: int  # furthest stage reached, an index of STAGES
	result: str  # won, lost, open
	closed: datetime | None
	persona: str
	lines: tuple[tuple[int, int], ...]  # (item index, quantity)
	lost_reason: int


@dataclass(frozen=True)
class Order:
	on: date
	lines: tuple[tuple[int, int], ...]
	paid_after: int | None  # days after the invoice; None: not paid
	via_sales_order: bool  # Sales Order and Delivery Note before the invoice


@dataclass
class LeadStory:
	number: int
	owner: int  # index of the sales user
	created: datetime
	first_name: str
	last_name: str
	company_name: str
	email: str
	mobile: str
	city: str
	source: str
	industry: str
	employees: str
	quality: float
	outcome: str  # customer, lost_deal, lost_lead, open_deal, open
	decided: datetime | None = None
	touches: list[Touch] = field(default_factory=list)
	deal: Deal | None = None
	orders: list[Order] = field(default_factory=list)


def plan(lang: str, sizes: Sizes, today: date, sales_users: int = 3) -> list[LeadStory]:
	rng = random.Random(sizes.seed)
	return [_story(rng, lang, number, sizes, today, sales_users) for number in range(1, sizes.leads + 1)]


def _story(rng: random.Random, lang: str, number: int, sizes: Sizes, today: date, sales_users: int):
	first, first_latin = spelled(rng.choice(FIRST_NAMES[lang]))
	last, last_latin = spelled(rng.choice(LAST_NAMES[lang]))
	word, word_latin = spelled(rng.choice(COMPANY_WORDS[lang]))
	kind = rng.choice(COMPANY_KINDS[lang])
	source, source_quality, _weight = rng.choices(SOURCES, weights=[s[2] for s in SOURCES])[0]
	employees, size_bonus = rng.choice(EMPLOYEES)
	days_ago = max(1, int(sizes.history_days * rng.random() ** 1.3))
	created = _at(rng, today - timedelta(days=days_ago))
	story = LeadStory(
		number=number,
		owner=number % sales_users,
		created=created,
		first_name=first,
		last_name=last,
		company_name=f"{word} {kind}" if lang == "en" else f"{kind} {word}",
		email=f"{first_latin}.{last_latin}.{number}@{word_latin}.example.com",
		mobile=f"+98912{number:03d}{rng.randint(1000, 9999)}" if lang == "fa" else f"+1617555{number:04d}",
		city=rng.choice(CITIES[lang]),
		source=source,
		industry=rng.choice(INDUSTRIES),
		employees=employees,
		quality=min(max(source_quality + size_bonus + rng.gauss(0, 0.12), 0.05), 0.95),
		outcome="open",
	)
	_decide(rng, story, days_ago, sizes, today)
	story.touches = _touches(rng, story, today)
	if story.outcome == "customer":
		story.orders = _orders(rng, story, today)
	return story


def _decide(rng: random.Random, story: LeadStory, days_ago: int, sizes: Sizes, today: date):
	"""Old Leads are decided (a few stay open and go cold); recent ones are still being worked."""
	if days_ago <= sizes.open_days or rng.random() < 0.1:
		story.outcome = "open_deal" if story.quality > 0.4 and rng.random() < 0.55 else "open"
		if story.outcome == "open_deal":
			story.deal = _deal(rng, story, "open", None, today)
		return
	took = timedelta(days=rng.randint(12, min(90, days_ago - 3)))
	story.decided = min(story.created + took, _at(rng, today - timedelta(days=2)))
	roll = rng.random()
	if roll < story.quality * 0.85:
		story.outcome = "customer"
		story.deal = _deal(rng, story, "won", story.decided, today)
	elif roll < story.quality * 0.85 + 0.15:
		story.outcome = "lost_deal"
		story.deal = _deal(rng, story, "lost", story.decided, today)
	else:
		story.outcome = "lost_lead"


def _deal(rng: random.Random, story: LeadStory, result: str, closed: datetime | None, today: date) -> Deal:
	end = closed or _at(rng, today)
	created = story.created + (end - story.created) * rng.uniform(0.1, 0.35)
	if result == "won":
		stage = len(STAGES) - 1
	elif result == "lost":
		stage = rng.randint(1, len(STAGES) - 1)
	else:
		stage = min(len(STAGES) - 1, int((end - created).days / 6) + rng.randint(0, 2))
	scale = {"1-10": 1, "11-50": 2, "51-200": 4, "201-500": 7, "501-1000": 10}[story.employees]
	items = rng.sample(range(len(ITEMS)), rng.randint(1, 3))
	lines = tuple((item, max(1, int(scale * rng.uniform(0.5, 2.0)))) for item in sorted(items))
	return Deal(created, stage, result, closed, rng.choice(PERSONAS), lines, rng.randrange(4))


def _touches(rng: random.Random, story: LeadStory, today: date) -> list[Touch]:
	"""Emails, calls, meetings, messages and visits between the Lead's creation and its outcome (or now):
	more of them, and more answers, the better the Lead."""
	end = story.decided or _at(rng, today)
	span = max((end - story.created).total_seconds(), 3600)
	engaged = story.outcome in ("customer", "lost_deal", "open_deal")
	count = rng.randint(1, 2) + (rng.randint(2, 5) if engaged else rng.randint(0, 1))
	touches = []
	for _ in range(count):
		at = _working_hours(rng, story.created + timedelta(seconds=span * rng.random()))
		if at > datetime.combine(today, time(18)):
			continue
		kind = rng.choices(
			("email", "call", "message", "meeting", "visit"), weights=(4, 3, 3, 1 + engaged, engaged)
		)[0]
		inbound = kind in ("email", "message", "call") and rng.random() < story.quality * 0.8
		channel = {"email": "Email", "call": "Phone", "meeting": "Meeting", "visit": "Site Visit"}.get(
			kind, rng.choice(MESSAGE_CHANNELS)
		)
		touches.append(
			Touch(kind, at, inbound, channel, rng.random() < 0.4 + story.quality / 2, rng.randrange(12))
		)
	return sorted(touches, key=lambda touch: touch.at)


def _orders(rng: random.Random, story: LeadStory, today: date) -> list[Order]:
	"""The first order closes the deal; repeat orders follow, fewer as a customer lapses."""
	habit = rng.choices(((2, 10), (15, 40), (40, 80)), weights=(4, 4, 2))[0]
	first = story.decided.date() + timedelta(days=rng.randint(1, 5))
	orders = [_order(rng, first, story.deal.lines, habit, today, True)]
	monthly = 0.06 + story.quality * 0.28
	lapses = rng.random() < 0.25
	day = first + timedelta(days=rng.randint(20, 40))
	while day < today - timedelta(days=3) and len(orders) < 12:
		if lapses and rng.random() < 0.15:
			break
		if rng.random() < monthly:
			lines = tuple((item, max(1, qty // 2 + rng.randint(0, 2))) for item, qty in story.deal.lines)
			orders.append(_order(rng, day, lines, habit, today, rng.random() < 0.25))
		day += timedelta(days=rng.randint(25, 35))
	return orders


def _order(rng, on: date, lines, habit, today: date, via_sales_order: bool) -> Order:
	delay = rng.randint(*habit)
	paid = None if on + timedelta(days=delay) >= today or rng.random() < 0.05 else delay
	return Order(on, lines, paid, via_sales_order)


def _at(rng: random.Random, day: date) -> datetime:
	return datetime.combine(day, time(rng.randint(9, 16), rng.choice((0, 15, 30, 45))))


def _working_hours(rng: random.Random, moment: datetime) -> datetime:
	return moment.replace(hour=rng.randint(9, 17), minute=rng.randrange(60), second=0, microsecond=0)
