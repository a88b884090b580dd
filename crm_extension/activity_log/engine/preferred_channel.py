"""Which channel a party responds on best, computed from its activity feed.

Input: feed items ``{channel, channel_type, direction, outcome, at}`` and ``as_of`` (same tz-awareness as ``at``).
``channel_type`` is read in CRM Channel's stored vocabulary ("Voice", "Meeting", ...) whatever its spelling:
this entry is the one place it is normalised (``canonical_channel_type``).
Internal items, items without a channel or time, items after ``as_of`` and sales documents are ignored.

1. Per channel, in time order, every Outbound item is an *attempt*, resolved as:
   - outcome "No Response" / "Bounced": non-response;
   - outcome "Replied" / "Interested" / "Not Interested" / "Meeting Held" (the party engaged), or "Completed"
     on a synchronous channel type (Voice, Meeting, Visit: the party was on the line): response;
   - otherwise it is answered by the first unclaimed Inbound item on the same channel that follows it within
     ``response_window``. Each Inbound item answers one attempt only, so three reminders and one reply are
     1 response in 3 attempts. Declared responses on asynchronous channels also claim that reply, for its delay;
     on synchronous channels the response delay is zero.
2. An Inbound item with no Outbound item on its channel in the preceding ``response_window`` is *spontaneous*:
   the party chose that channel itself (including replying on another channel than the one we used).
   Inbound follow-ups inside a conversation are neither responses nor spontaneous.
3. Every attempt and spontaneous item is weighted ``0.5 ** (age / half_life)``, its age taken at ``as_of``.
4. Per channel:
   - response_rate = (weighted responses + α) / (weighted attempts + α + β), a Beta(α, β) prior, so 1 of 1
     (0.67) ranks below 9 of 10 (0.83);
   - speed = 1 / (1 + median delay hours / speed_scale_hours); 0.5 when responses have no known delay, 0 when
     there are no responses;
   - inbound_share = the channel's part of all weighted spontaneous inbound;
   - score = rate_weight * response_rate + speed_weight * speed + inbound_weight * inbound_share.
5. Channels are ranked by score, then weighted positive evidence (responses + spontaneous), then name.
   The preferred channel is the best-ranked channel with at least ``min_positive_events`` responses plus
   spontaneous inbound items, or None when no channel has that much evidence.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from crm_extension.activity_log.engine.feed import (
	INBOUND,
	MEETING,
	OUTBOUND,
	SALES_DOCUMENT_CHANNEL,
	VISIT,
	VOICE,
	canonical_channel_type,
)

RESPONSE_OUTCOMES = frozenset({"Replied", "Interested", "Not Interested", "Meeting Held"})
NON_RESPONSE_OUTCOMES = frozenset({"No Response", "Bounced"})
SYNCHRONOUS_CHANNEL_TYPES = frozenset({VOICE, MEETING, VISIT})
IGNORED_CHANNELS = frozenset({SALES_DOCUMENT_CHANNEL})
UNKNOWN_SPEED = 0.5


@dataclass(frozen=True)
class PreferenceSettings:
	response_window: timedelta = timedelta(days=7)
	half_life_days: float = 90.0
	prior_responses: float = 1.0
	prior_non_responses: float = 1.0
	speed_scale_hours: float = 24.0
	rate_weight: float = 0.65
	speed_weight: float = 0.10
	inbound_weight: float = 0.25
	min_positive_events: int = 1


DEFAULT_SETTINGS = PreferenceSettings()


@dataclass
class ChannelEvidence:
	attempts: int = 0
	responses: int = 0
	spontaneous: int = 0
	attempt_weight: float = 0.0
	response_weight: float = 0.0
	spontaneous_weight: float = 0.0
	delays_hours: list[float] = field(default_factory=list)

	@property
	def positive_events(self) -> int:
		return self.responses + self.spontaneous

	@property
	def positive_weight(self) -> float:
		return self.response_weight + self.spontaneous_weight


def compute_preferred_channel(
	feed: Iterable[Mapping], as_of: datetime, settings: PreferenceSettings = DEFAULT_SETTINGS
) -> dict:
	"""Return ``{"preferred_channel": str | None, "channels": [ranked channel stats]}``."""
	evidence = {
		channel: collect_evidence(items, as_of, settings)
		for channel, items in _items_by_channel(feed, as_of).items()
	}
	total_spontaneous = sum(found.spontaneous_weight for found in evidence.values())
	scores = {channel: _score(found, total_spontaneous, settings) for channel, found in evidence.items()}
	ranked = sorted(evidence, key=lambda channel: _ranking_key(channel, scores[channel], evidence[channel]))
	min_events = max(settings.min_positive_events, 1)
	return {
		"preferred_channel": next((c for c in ranked if evidence[c].positive_events >= min_events), None),
		"channels": [_channel_stats(c, scores[c], evidence[c], settings) for c in ranked],
	}


def collect_evidence(items: list[Mapping], as_of: datetime, settings: PreferenceSettings) -> ChannelEvidence:
	"""Evidence for one channel from its Inbound and Outbound items, sorted by time."""
	evidence = ChannelEvidence()
	outbound = [item for item in items if item["direction"] == OUTBOUND]
	inbound = [item for item in items if item["direction"] == INBOUND]
	_add_attempts(evidence, outbound, [item["at"] for item in inbound], as_of, settings)
	_add_spontaneous(evidence, inbound, [item["at"] for item in outbound], as_of, settings)
	return evidence


def _add_attempts(
	evidence: ChannelEvidence,
	outbound: list[Mapping],
	inbound_times: list[datetime],
	as_of: datetime,
	settings: PreferenceSettings,
) -> None:
	claimed: set[int] = set()
	for touch in outbound:
		responded, delay_hours = _resolve_attempt(touch, inbound_times, claimed, settings.response_window)
		weight = _recency_weight(touch["at"], as_of, settings.half_life_days)
		evidence.attempts += 1
		evidence.attempt_weight += weight
		if responded:
			evidence.responses += 1
			evidence.response_weight += weight
		if delay_hours is not None:
			evidence.delays_hours.append(delay_hours)


def _add_spontaneous(
	evidence: ChannelEvidence,
	inbound: list[Mapping],
	outbound_times: list[datetime],
	as_of: datetime,
	settings: PreferenceSettings,
) -> None:
	for item in inbound:
		if not _follows_outbound(item["at"], outbound_times, settings.response_window):
			evidence.spontaneous += 1
			evidence.spontaneous_weight += _recency_weight(item["at"], as_of, settings.half_life_days)


def _ranking_key(channel: str, score: float, evidence: ChannelEvidence) -> tuple:
	# Rounded so that float noise from summation order never decides a tie.
	return (-round(score, 9), -round(evidence.positive_weight, 9), channel)


def _items_by_channel(feed: Iterable[Mapping], as_of: datetime) -> dict[str, list[Mapping]]:
	grouped: dict[str, list[Mapping]] = {}
	for item in feed:
		channel = (item.get("channel") or "").strip()
		at = item.get("at")
		if not channel or channel in IGNORED_CHANNELS or at is None or at > as_of:
			continue
		if item.get("direction") in (INBOUND, OUTBOUND):
			grouped.setdefault(channel, []).append(
				{**item, "channel_type": canonical_channel_type(item.get("channel_type"))}
			)
	for items in grouped.values():
		# Outbound first on equal times: a reply cannot arrive at the very instant of the touch.
		items.sort(key=lambda item: (item["at"], item["direction"] != OUTBOUND))
	return grouped


def _resolve_attempt(
	touch: Mapping, inbound_times: list[datetime], claimed: set[int], window: timedelta
) -> tuple[bool, float | None]:
	"""(responded, response delay in hours or None) for one outbound item."""
	outcome = touch.get("outcome")
	if outcome in NON_RESPONSE_OUTCOMES:
		return False, None
	synchronous = touch.get("channel_type") in SYNCHRONOUS_CHANNEL_TYPES
	declared = outcome in RESPONSE_OUTCOMES or (synchronous and outcome == "Completed")
	if declared and synchronous:
		return True, 0.0
	reply_index = _claim_reply(touch["at"], inbound_times, claimed, window)
	if reply_index is None:
		return declared, None
	return True, (inbound_times[reply_index] - touch["at"]).total_seconds() / 3600


def _claim_reply(
	sent_at: datetime, inbound_times: list[datetime], claimed: set[int], window: timedelta
) -> int | None:
	for index in range(bisect_right(inbound_times, sent_at), len(inbound_times)):
		if inbound_times[index] - sent_at > window:
			return None
		if index not in claimed:
			claimed.add(index)
			return index
	return None


def _follows_outbound(received_at: datetime, outbound_times: list[datetime], window: timedelta) -> bool:
	earlier = bisect_left(outbound_times, received_at)
	return earlier > 0 and received_at - outbound_times[earlier - 1] <= window


def _recency_weight(at: datetime, as_of: datetime, half_life_days: float) -> float:
	age_days = (as_of - at).total_seconds() / 86400
	return 0.5 ** (age_days / half_life_days)


def _response_rate(evidence: ChannelEvidence, settings: PreferenceSettings) -> float:
	prior_total = settings.prior_responses + settings.prior_non_responses
	return (evidence.response_weight + settings.prior_responses) / (evidence.attempt_weight + prior_total)


def _speed(evidence: ChannelEvidence, settings: PreferenceSettings) -> float:
	if not evidence.responses:
		return 0.0
	if not evidence.delays_hours:
		return UNKNOWN_SPEED
	return 1 / (1 + median(evidence.delays_hours) / settings.speed_scale_hours)


def _score(evidence: ChannelEvidence, total_spontaneous: float, settings: PreferenceSettings) -> float:
	inbound_share = evidence.spontaneous_weight / total_spontaneous if total_spontaneous else 0.0
	return (
		settings.rate_weight * _response_rate(evidence, settings)
		+ settings.speed_weight * _speed(evidence, settings)
		+ settings.inbound_weight * inbound_share
	)


def _channel_stats(name: str, score: float, evidence: ChannelEvidence, settings: PreferenceSettings) -> dict:
	delays = evidence.delays_hours
	return {
		"channel": name,
		"score": round(score, 4),
		"responses": evidence.responses,
		"attempts": evidence.attempts,
		"response_rate": round(_response_rate(evidence, settings), 4),
		"median_response_hours": round(median(delays), 2) if delays else None,
		"inbound": evidence.spontaneous,
	}
