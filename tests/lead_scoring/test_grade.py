from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.lead_scoring.engine.errors import LeadScoringError
from crm_extension.lead_scoring.engine.grade import (
	GRADES,
	THRESHOLDS_OUT_OF_ORDER,
	GradeThresholds,
	TrendPoint,
	TrendSettings,
	announce_grade_a,
	changes_that_matter,
	compare,
	grade_lead,
)

T0 = datetime(2024, 1, 1)


def point(day, score, grade, probability=None):
	return TrendPoint(T0 + timedelta(days=day), score, grade, probability)


def test_grade_uses_the_probability_when_a_model_is_active():
	assert grade_lead(score=5, probability=0.65) == "A"
	assert grade_lead(score=95, probability=0.10) == "D"


def test_grade_falls_back_to_the_rule_score_with_inclusive_thresholds():
	thresholds = GradeThresholds(score_a=80, score_b=50, score_c=25)

	assert [grade_lead(score, None, thresholds) for score in (80, 79.9, 50, 25, 24.9)] == [
		"A",
		"B",
		"B",
		"C",
		"D",
	]
	assert grade_lead(None, None) == "D"


def test_thresholds_out_of_order_or_range_are_refused():
	with pytest.raises(LeadScoringError) as raised:
		GradeThresholds(score_a=40, score_b=60, score_c=10)
	assert raised.value.template == THRESHOLDS_OUT_OF_ORDER
	with pytest.raises(LeadScoringError):
		GradeThresholds(probability_a=1.5)
	with pytest.raises(LeadScoringError):
		GradeThresholds(score_c=-1)
	with pytest.raises(LeadScoringError):
		TrendSettings(min_score_change=0)


@given(st.floats(0, 100), st.floats(0, 100))
def test_a_higher_score_never_gets_a_worse_grade(a, b):
	low, high = sorted((a, b))

	assert GRADES.index(grade_lead(high, None)) <= GRADES.index(grade_lead(low, None))


def test_small_moves_are_not_recorded_but_a_drift_that_adds_up_is():
	points = [point(0, 50, "B"), point(1, 54, "B"), point(2, 58, "B"), point(3, 61, "B"), point(4, 62, "B")]

	assert [p.score for p in changes_that_matter(points, TrendSettings(min_score_change=10))] == [50, 61]


def test_a_grade_change_matters_even_when_the_score_barely_moved():
	change = compare(point(0, 69, "B"), point(1, 70, "A"))

	assert (change.matters, change.grade_changed, change.crossed_into_a) == (True, True, True)


def test_a_probability_move_matters():
	assert compare(point(0, 50, "B", 0.40), point(1, 50, "B", 0.52)).matters
	assert not compare(point(0, 50, "B", 0.40), point(1, 50, "B", 0.45)).matters


def test_only_an_entry_into_a_from_another_grade_is_a_crossing():
	assert not compare(point(0, 90, "A"), point(1, 75, "A")).crossed_into_a
	assert not compare(point(0, 40, "B"), point(1, 30, "C")).crossed_into_a
	assert not compare(None, point(0, 90, "A")).crossed_into_a
	assert compare(None, point(0, 90, "A")).matters


def test_owner_hears_of_a_lead_that_rose_to_grade_a():
	assert announce_grade_a("B", "A", lead_age_days=40)


def test_a_new_lead_graded_a_at_once_is_announced_but_an_old_one_graded_for_the_first_time_is_not():
	assert announce_grade_a(None, "A", lead_age_days=0.2)
	assert not announce_grade_a(None, "A", lead_age_days=30)


def test_a_lead_that_stays_a_or_is_below_a_is_not_announced():
	assert not announce_grade_a("A", "A", lead_age_days=0)
	assert not announce_grade_a("C", "B", lead_age_days=0)
