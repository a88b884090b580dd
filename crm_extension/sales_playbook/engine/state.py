"""What the engine knows about one Opportunity when it matches a playbook or recommends the next move."""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class OpportunityState:
	"""``territories`` is the Opportunity's territory followed by its ancestors (most specific first).
	``recent_feed`` holds items of the unified activity feed (``activity_log.engine.feed``):
	``{channel, direction, outcome, at, ...}``."""

	sales_stage: str
	opportunity_type: str | None = None
	customer_tier: str | None = None
	persona: str | None = None
	amount: float | None = None
	territories: tuple[str, ...] = ()
	days_in_stage: int = 0
	competitors: tuple[str, ...] = ()
	recent_feed: tuple[Mapping, ...] = ()
