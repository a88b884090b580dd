"""Seeded generator of leads with a known conversion process, for the lead-scoring benchmarks.

The process, in words:

- **Who the lead is.** A lead is created on a day in a two-year window. It has a source, an industry, a
  company size (ERPNext's ``no_of_employees`` buckets), a territory (and a country inside it), a lead type,
  a request type, a market segment, maybe an email address, a mobile number and a website, and an annual
  revenue that grows with the company size. Source, industry, size, territory, lead type and the contact
  fields each move the conversion log-odds by a fixed amount (``*_EFFECTS`` below); market segment, request
  type and country move nothing (noise fields).
- **An interaction.** Industry × size: software companies convert far better when large and worse when
  small, retail the other way round, manufacturing a little better when large (``INTERACTIONS``). No
  per-field frequency table and no model without cross terms can represent it exactly.
- **Engagement over time, with decay.** Each lead has a hidden interest that drifts linearly over its life
  (some warm up, some cool off). Inbound replies (WhatsApp, Email, Phone) arrive as a Poisson process whose
  rate follows the interest of the day; warm leads sometimes hold a meeting. Outbound touches (emails and
  calls from sales) arrive at a constant rate and carry no signal. The lead is decided 14 to 120 days after
  it was created. What counts for conversion is *recent* engagement: every reply before the decision
  weighs ``0.5 ** (age / 14 days)`` and every meeting ``2 × 0.5 ** (age / 30 days)``, and the conversion
  log-odds rise by ``1.1 × ln(1 + that decayed sum)``. A lead that replied a lot two months ago and went
  quiet converts like a lead that barely replied.
- **Noise.** The interest on the decision day adds ``0.6 × interest`` to the log-odds, unseen by any
  model; the outcome is then drawn from the resulting probability (``true_probability``).
- **Leakage traps.** After the decision, converted leads get follow-up activities and lost leads a bounced
  email; a model that saw them would look perfect, so feature rows must stop at the outcome.

The process does not drift over time (same effects in the first and the last month).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from crm_extension.lead_scoring.engine.features import FeatureSettings, OutcomeFacts

START = datetime(2023, 1, 1)
CREATION_SPAN_DAYS = 720
LIFETIME_DAYS = (14, 120)

BASE_LOGIT = -2.6
SOURCE_EFFECTS = {
	"Referral": 1.1,
	"Existing Customer": 0.8,
	"Website": 0.3,
	"Exhibition": 0.1,
	"Campaign": 0.0,
	"Advertisement": -0.4,
	"Cold Calling": -1.1,
}
SOURCE_SHARES = (0.08, 0.05, 0.27, 0.08, 0.15, 0.17, 0.20)
INDUSTRY_EFFECTS = {
	"Software": 0.3,
	"Manufacturing": 0.1,
	"Retail": -0.1,
	"Healthcare": 0.2,
	"Finance": 0.0,
	"Education": -0.4,
	"Logistics": -0.1,
	"Hospitality": -0.3,
}
SIZES = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1000+")
SIZE_SHARES = (0.30, 0.25, 0.20, 0.12, 0.08, 0.05)
SIZE_EFFECTS = dict(zip(SIZES, (-0.3, -0.1, 0.1, 0.2, 0.3, 0.3), strict=True))
SMALL, LARGE = frozenset(SIZES[:2]), frozenset(SIZES[3:])
INTERACTIONS = {
	("Software", "large"): 0.9,
	("Software", "small"): -0.7,
	("Retail", "small"): 0.6,
	("Retail", "large"): -0.8,
	("Manufacturing", "large"): 0.4,
}
TERRITORIES = {
	"North": ("India",),
	"South": ("India",),
	"Europe": ("Germany", "France", "Netherlands"),
	"Americas": ("United States", "Canada", "Brazil"),
	"Middle East": ("United Arab Emirates", "Saudi Arabia"),
}
TERRITORY_EFFECTS = {"North": 0.0, "South": 0.1, "Europe": 0.2, "Americas": 0.1, "Middle East": -0.2}
LEAD_TYPES = {"Client": 0.0, "Channel Partner": -0.3, "Consultant": -0.1}
REQUEST_TYPES = ("Product Enquiry", "Request for Information", "Suggestions", "Other")
MARKET_SEGMENTS = ("Lower Income", "Middle Income", "Upper Income")
PRESENCE_EFFECTS = {"email_id": 0.3, "mobile_no": 0.2, "website": 0.2}
PRESENCE_SHARES = {"email_id": 0.75, "mobile_no": 0.6, "website": 0.45}

REPLY_RATE = -2.4  # ln(replies per day) at interest 0: about one reply every 11 days
REPLY_INTEREST = 0.9
REPLY_CHANNELS = ("WhatsApp", "Email", "Phone")
REPLY_CHANNEL_SHARES = (0.45, 0.35, 0.20)
OUTBOUND_PER_DAY = 0.08
MEETING_RATE = 0.12  # per reply, times the logistic of the day's interest
REPLY_HALF_LIFE_DAYS = 14.0
MEETING_HALF_LIFE_DAYS = 30.0
MEETING_WEIGHT = 2.0
ENGAGEMENT_WEIGHT = 1.1
HIDDEN_INTEREST_WEIGHT = 0.6

#: The features the adapter builds on an ERPNext v15 site (context.feature_settings(): no utm_* fields,
#: the lead type is ``type``).
SITE_FEATURES = FeatureSettings(
	categorical_fields=(
		"source",
		"industry",
		"market_segment",
		"territory",
		"country",
		"no_of_employees",
		"request_type",
		"type",
	),
	presence_fields=("email_id", "mobile_no", "phone", "website", "company_name"),
	numeric_fields=("annual_revenue",),
)


@dataclass(frozen=True)
class GeneratedLead:
	key: str
	lead: dict
	feed: list[dict]
	facts: OutcomeFacts
	converted: bool
	created: datetime
	decided_at: datetime
	true_probability: float


def generate_leads(count: int, seed: int) -> list[GeneratedLead]:
	rng = np.random.default_rng(seed)
	return [_generate_one(rng, number) for number in range(count)]


def fit_logit(lead: dict) -> float:
	"""The part of the conversion log-odds that comes from the lead's fields (interaction included)."""
	size = lead["no_of_employees"]
	group = "small" if size in SMALL else "large" if size in LARGE else "mid"
	logit = (
		SOURCE_EFFECTS[lead["source"]]
		+ INDUSTRY_EFFECTS[lead["industry"]]
		+ SIZE_EFFECTS[size]
		+ INTERACTIONS.get((lead["industry"], group), 0.0)
		+ TERRITORY_EFFECTS[lead["territory"]]
		+ LEAD_TYPES[lead["type"]]
	)
	return logit + sum(effect for field, effect in PRESENCE_EFFECTS.items() if lead.get(field))


def decayed_engagement(feed: list[dict], at: datetime) -> float:
	"""Replies and meetings before ``at``, each weighed by its half-life."""
	total = 0.0
	for item in feed:
		if item["at"] >= at or item["direction"] != "Inbound":
			continue
		age = (at - item["at"]).total_seconds() / 86400
		if item["outcome"] == "Meeting Held":
			total += MEETING_WEIGHT * 0.5 ** (age / MEETING_HALF_LIFE_DAYS)
		else:
			total += 0.5 ** (age / REPLY_HALF_LIFE_DAYS)
	return total


def lead_fields(rng: np.random.Generator, number: int) -> dict:
	"""One lead's fields, as ERPNext v15 names them."""
	size = SIZES[rng.choice(len(SIZES), p=SIZE_SHARES)]
	territory = str(rng.choice(list(TERRITORIES)))
	lead = {
		"name": f"BENCH-LEAD-{number:07d}",
		"lead_name": f"Bench Lead {number}",
		"company_name": f"Company {number}",
		"source": list(SOURCE_EFFECTS)[rng.choice(len(SOURCE_EFFECTS), p=SOURCE_SHARES)],
		"industry": str(rng.choice(list(INDUSTRY_EFFECTS))),
		"no_of_employees": size,
		"territory": territory,
		"country": str(rng.choice(TERRITORIES[territory])),
		"type": str(rng.choice(list(LEAD_TYPES), p=(0.7, 0.2, 0.1))),
		"request_type": str(rng.choice(REQUEST_TYPES)),
		"market_segment": str(rng.choice(MARKET_SEGMENTS)),
		"annual_revenue": round(float(np.exp(rng.normal(11.5 + 0.8 * SIZES.index(size), 0.6))), -3),
	}
	for field, share in PRESENCE_SHARES.items():
		if rng.random() < share:
			lead[field] = {
				"email_id": f"lead{number}@example.com",
				"mobile_no": f"+9198{number:08d}",
				"website": f"https://company{number}.example.com",
			}[field]
	return lead


def _generate_one(rng: np.random.Generator, number: int) -> GeneratedLead:
	lead = lead_fields(rng, number)
	created = START + timedelta(days=float(rng.uniform(0, CREATION_SPAN_DAYS)))
	lifetime = float(rng.uniform(*LIFETIME_DAYS))
	decided = created + timedelta(days=lifetime)
	interest, drift = rng.normal(), rng.normal(0, 1.2)

	def interest_at(days: float) -> float:
		return interest + drift * (2 * days / lifetime - 1)

	feed = _replies(rng, created, lifetime, interest_at) + _outbound(rng, created, lifetime)
	logit = (
		BASE_LOGIT
		+ fit_logit(lead)
		+ ENGAGEMENT_WEIGHT * math.log1p(decayed_engagement(feed, decided))
		+ HIDDEN_INTEREST_WEIGHT * interest_at(lifetime)
	)
	probability = 1 / (1 + math.exp(-logit))
	converted = bool(rng.random() < probability)
	feed += _after_outcome(rng, decided, converted)
	lead["creation"] = created
	status = "Converted" if converted else str(rng.choice(("Do Not Contact", "Lost Quotation")))
	return GeneratedLead(
		key=lead["name"],
		lead=lead,
		feed=feed,
		facts=OutcomeFacts(status=status, status_changed_at=decided),
		converted=converted,
		created=created,
		decided_at=decided,
		true_probability=probability,
	)


def _replies(rng, created: datetime, lifetime: float, interest_at) -> list[dict]:
	"""Inbound replies by thinning: a Poisson process whose daily rate follows the interest of the day."""
	peak = math.exp(REPLY_RATE + REPLY_INTEREST * max(interest_at(0.0), interest_at(lifetime)))
	items = []
	for day in np.sort(rng.uniform(0, lifetime, rng.poisson(peak * lifetime))):
		level = interest_at(float(day))
		if rng.random() * peak > math.exp(REPLY_RATE + REPLY_INTEREST * level):
			continue
		meeting = rng.random() < MEETING_RATE / (1 + math.exp(-level))
		channel = "Meeting" if meeting else REPLY_CHANNELS[rng.choice(3, p=REPLY_CHANNEL_SHARES)]
		outcome = "Meeting Held" if meeting else "Replied"
		items.append(_item(channel, "Inbound", outcome, created + timedelta(days=float(day))))
	return items


def _outbound(rng, created: datetime, lifetime: float) -> list[dict]:
	return [
		_item(
			str(rng.choice(("Email", "Phone"))),
			"Outbound",
			str(rng.choice(("No Response", "Completed"))),
			created + timedelta(days=float(day)),
		)
		for day in rng.uniform(0, lifetime, rng.poisson(OUTBOUND_PER_DAY * lifetime))
	]


def _after_outcome(rng, decided: datetime, converted: bool) -> list[dict]:
	if converted:
		return [
			_item("Email", "Outbound", "Completed", decided + timedelta(days=float(day)))
			for day in rng.uniform(0.5, 30, 4)
		]
	return [_item("Email", "Outbound", "Bounced", decided + timedelta(days=float(rng.uniform(0.5, 10))))]


def _item(channel: str, direction: str, outcome: str, at: datetime) -> dict:
	return {"channel": channel, "direction": direction, "outcome": outcome, "at": at}
