"""Lead grade A/B/C/D, and which score changes are worth keeping in the trend.

A grade comes from the conversion probability when a model is active, else from the rule score: the best
grade whose threshold the value reaches (thresholds are inclusive), D below C's threshold.

The trend keeps a change when the grade changed, the score moved by ``min_score_change`` points or more, or
the probability by ``min_probability_change`` or more, always compared with the last *kept* point, so a slow
drift is recorded once it adds up. A crossing into A is a change from a kept grade other than A to A; a lead
seen for the first time is not a crossing, so the first scoring of existing leads notifies nobody.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crm_extension.i18n import N_
from crm_extension.lead_scoring.engine.errors import LeadScoringError

A, B, C, D = "A", "B", "C", "D"
GRADES = (A, B, C, D)

THRESHOLDS_OUT_OF_ORDER = N_("Grade thresholds must fall from A to C, but they are A {a}, B {b}, C {c}")
PROBABILITY_OUT_OF_RANGE = N_("Probability thresholds must be between 0 and 1")
SCORE_OUT_OF_RANGE = N_("Score thresholds must be between 0 and 100")
CHANGE_NOT_POSITIVE = N_("The change that matters must be more than 0")


@dataclass(frozen=True)
class GradeThresholds:
	"""The lowest probability (0..1) and the lowest rule score (0..100) of grades A, B and C."""

	probability_a: float = 0.60
	probability_b: float = 0.35
	probability_c: float = 0.15
	score_a: float = 70.0
	score_b: float = 45.0
	score_c: float = 20.0

	def __post_init__(self):
		probabilities = (self.probability_a, self.probability_b, self.probability_c)
		scores = (self.score_a, self.score_b, self.score_c)
		if not all(0 <= value <= 1 for value in probabilities):
			raise LeadScoringError(PROBABILITY_OUT_OF_RANGE)
		if not all(0 <= value <= 100 for value in scores):
			raise LeadScoringError(SCORE_OUT_OF_RANGE)
		for a, b, c in (probabilities, scores):
			if not a >= b >= c:
				raise LeadScoringError(THRESHOLDS_OUT_OF_ORDER, {"a": a, "b": b, "c": c})


DEFAULT_THRESHOLDS = GradeThresholds()


@dataclass(frozen=True)
class TrendSettings:
	min_score_change: float = 10.0
	min_probability_change: float = 0.10

	def __post_init__(self):
		if self.min_score_change <= 0 or self.min_probability_change <= 0:
			raise LeadScoringError(CHANGE_NOT_POSITIVE)


DEFAULT_TREND = TrendSettings()


@dataclass(frozen=True)
class TrendPoint:
	at: datetime
	score: float
	grade: str
	probability: float | None = None


@dataclass(frozen=True)
class ScoreChange:
	matters: bool
	grade_changed: bool
	crossed_into_a: bool


def grade_lead(
	score: float | None, probability: float | None, thresholds: GradeThresholds = DEFAULT_THRESHOLDS
) -> str:
	"""Grade on ``probability`` (0..1) when there is one, else on ``score``; D when there is neither."""
	if probability is not None:
		limits = (thresholds.probability_a, thresholds.probability_b, thresholds.probability_c)
		return grade_for(probability, limits)
	if score is not None:
		return grade_for(score, (thresholds.score_a, thresholds.score_b, thresholds.score_c))
	return D


def grade_for(value: float, limits: tuple[float, float, float]) -> str:
	return next((grade for grade, limit in zip(GRADES, limits, strict=False) if value >= limit), D)


def compare(
	last_kept: TrendPoint | None, current: TrendPoint, settings: TrendSettings = DEFAULT_TREND
) -> ScoreChange:
	"""Whether ``current`` is a change that matters against the last kept point."""
	if last_kept is None:
		return ScoreChange(matters=True, grade_changed=False, crossed_into_a=False)
	grade_changed = current.grade != last_kept.grade
	score_moved = abs(current.score - last_kept.score) >= settings.min_score_change
	return ScoreChange(
		matters=grade_changed or score_moved or _probability_moved(last_kept, current, settings),
		grade_changed=grade_changed,
		crossed_into_a=crossed_into_a(last_kept.grade, current.grade),
	)


def crossed_into_a(previous_grade: str | None, current_grade: str) -> bool:
	return previous_grade is not None and previous_grade != A and current_grade == A


NEW_LEAD_DAYS = 1.0


def announce_grade_a(stored_grade: str | None, current_grade: str, lead_age_days: float) -> bool:
	"""Whether the owner hears that the lead reached grade A: it is A now and was graded lower before, or it
	was never graded and is new. Leads graded for the first time when scoring is switched on for a site
	that already has them stay quiet, so their owners are not flooded."""
	if current_grade != A or stored_grade == A:
		return False
	return bool(stored_grade) or lead_age_days <= NEW_LEAD_DAYS


def changes_that_matter(
	points: Iterable[TrendPoint], settings: TrendSettings = DEFAULT_TREND
) -> list[TrendPoint]:
	"""The points a trend keeps, in time order: the first, then each that matters against the last kept."""
	kept: list[TrendPoint] = []
	for point in sorted(points, key=lambda point: point.at):
		if compare(kept[-1] if kept else None, point, settings).matters:
			kept.append(point)
	return kept


def _probability_moved(last_kept: TrendPoint, current: TrendPoint, settings: TrendSettings) -> bool:
	if last_kept.probability is None or current.probability is None:
		return (last_kept.probability is None) != (current.probability is None)
	return abs(current.probability - last_kept.probability) >= settings.min_probability_change
