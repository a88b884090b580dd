"""Seeded generator of decided leads with a known conversion process, for the model tests.

Each lead has a source (Referral converts best, Cold Calling worst), maybe an email address, and a hidden
interest ~ N(0, 1). Interest drives both conversion and how often the lead writes back: inbound replies
before the outcome are Poisson with mean ``exp(0.8 + 1.0 × interest)``; outbound touches are Poisson(3)
and carry no signal. Conversion: logit = -0.5 + source effect + 1.2 × interest + 0.4 × has email.
Leads are created over ~600 days and decided 10..60 days later. Converted leads then get five sales
documents *after* the outcome: a model fed those would look perfect, so they catch leakage.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from crm_extension.lead_scoring.engine.features import OutcomeFacts

START = datetime(2023, 1, 1)
SOURCE_EFFECTS = {"Referral": 1.5, "Website": 0.3, "Advertisement": -0.3, "Cold Calling": -1.5}


@dataclass(frozen=True)
class SimulatedLead:
	key: str
	lead: dict
	feed: list[dict]
	facts: OutcomeFacts
	converted: bool
	decided_at: datetime


def simulate_leads(count: int, seed: int) -> list[SimulatedLead]:
	rng = np.random.default_rng(seed)
	return [_simulate_one(rng, number) for number in range(count)]


def _simulate_one(rng: np.random.Generator, number: int) -> SimulatedLead:
	source = str(rng.choice(list(SOURCE_EFFECTS)))
	has_email = bool(rng.random() < 0.7)
	interest = rng.normal()
	logit = -0.5 + SOURCE_EFFECTS[source] + 1.2 * interest + 0.4 * has_email
	converted = bool(rng.random() < 1 / (1 + np.exp(-logit)))
	created = START + timedelta(days=float(rng.uniform(0, 600)))
	decided = created + timedelta(days=float(rng.uniform(10, 60)))
	feed = _touches(rng, created, decided, "Inbound", rng.poisson(np.exp(0.8 + 1.0 * interest)))
	feed += _touches(rng, created, decided, "Outbound", rng.poisson(3))
	if converted:
		feed += [_item("Sales Document", "Outbound", decided + timedelta(days=day)) for day in range(1, 6)]
	lead = {"name": f"LEAD-{number:05d}", "source": source, "creation": created}
	if has_email:
		lead["email_id"] = f"lead{number}@example.com"
	facts = OutcomeFacts(status="Converted" if converted else "Do Not Contact", status_changed_at=decided)
	return SimulatedLead(lead["name"], lead, feed, facts, converted, decided)


def _touches(rng, created: datetime, decided: datetime, direction: str, count: int) -> list[dict]:
	span = (decided - created).total_seconds()
	channel = "WhatsApp" if direction == "Inbound" else "Email"
	return [
		_item(channel, direction, created + timedelta(seconds=float(rng.uniform(0, span))))
		for _ in range(int(count))
	]


def _item(channel: str, direction: str, at: datetime) -> dict:
	return {"channel": channel, "direction": direction, "outcome": None, "at": at}
