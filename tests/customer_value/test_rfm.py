import math
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.customer_value.engine.rfm import (
	SEGMENTS,
	CountedColumn,
	InMemoryColumn,
	RfmValues,
	compute_rfm,
	population_cuts,
	quintile_cuts,
	quintile_scores,
	rfm_segment,
	rfm_values,
	score_from_cuts,
	score_rfm,
)

AS_OF = date(2024, 6, 30)


def days_ago(days: int) -> date:
	return AS_OF - timedelta(days=days)


def test_single_purchase_gives_its_age_as_recency_one_day_and_its_amount():
	values = rfm_values([(days_ago(10), 250.0)], AS_OF)
	assert values == RfmValues(recency_days=10, frequency=1, monetary=250.0)


def test_same_day_invoices_count_as_one_purchase_day_but_all_amounts_add_up():
	values = rfm_values([(days_ago(3), 100.0), (days_ago(3), 50.0), (days_ago(40), 20.0)], AS_OF)
	assert values.frequency == 2
	assert values.monetary == pytest.approx(170.0)


def test_returns_larger_than_sales_keep_the_negative_net_but_score_monetary_one():
	transactions = {
		"returner": [(days_ago(5), 100.0), (days_ago(2), -300.0)],
		"small": [(days_ago(5), 10.0)],
		"big": [(days_ago(5), 1000.0)],
	}
	scores = compute_rfm(transactions, AS_OF)
	assert scores["returner"].monetary == pytest.approx(-200.0)
	assert scores["returner"].m_score == 1
	assert scores["big"].m_score > scores["small"].m_score


def test_a_return_is_not_a_purchase_for_recency_or_frequency():
	values = rfm_values([(days_ago(30), 80.0), (days_ago(1), -20.0)], AS_OF)
	assert values.recency_days == 30
	assert values.frequency == 1
	assert values.monetary == pytest.approx(60.0)


def test_zero_value_invoices_count_as_purchases_with_zero_monetary_scoring_one():
	transactions = {"free": [(days_ago(1), 0.0)], "paying": [(days_ago(1), 50.0)]}
	scores = compute_rfm(transactions, AS_OF)
	assert scores["free"].frequency == 1
	assert scores["free"].recency_days == 1
	assert scores["free"].monetary == 0.0
	assert scores["free"].m_score == 1


def test_customer_without_purchases_in_window_scores_lowest_and_is_lost_but_keeps_recency():
	transactions = {"dormant": [(days_ago(500), 900.0)], "never": [], "active": [(days_ago(3), 10.0)]}
	scores = compute_rfm(transactions, AS_OF, window_days=365)
	assert (scores["dormant"].recency_days, scores["dormant"].frequency) == (500, 0)
	assert scores["never"].recency_days is None
	for key in ("dormant", "never"):
		assert (scores[key].r_score, scores[key].f_score, scores[key].m_score) == (1, 1, 1)
		assert scores[key].segment == "Lost"


def test_window_excludes_its_start_day_and_includes_as_of():
	values = rfm_values([(days_ago(365), 1.0), (days_ago(364), 2.0), (AS_OF, 4.0)], AS_OF, window_days=365)
	assert values.frequency == 2
	assert values.monetary == pytest.approx(6.0)


def test_transactions_after_as_of_are_ignored():
	values = rfm_values([(days_ago(10), 5.0), (AS_OF + timedelta(days=1), 500.0)], AS_OF)
	assert values == RfmValues(recency_days=10, frequency=1, monetary=5.0)


def test_dates_may_be_datetimes_or_iso_strings():
	values = rfm_values([("2024-06-20", 5.0), (date(2024, 6, 25), 1.0)], AS_OF)
	assert values == RfmValues(recency_days=5, frequency=2, monetary=6.0)


def test_recent_customers_score_high_recency():
	transactions = {f"c{days}": [(days_ago(days), 10.0)] for days in (1, 50, 100, 200, 300)}
	scores = compute_rfm(transactions, AS_OF)
	assert [scores[f"c{days}"].r_score for days in (1, 50, 100, 200, 300)] == [5, 4, 3, 2, 1]


def test_quintiles_of_five_distinct_values_are_one_to_five():
	assert quintile_scores([50, 10, 40, 20, 30]).tolist() == [5, 1, 4, 2, 3]


def test_quintiles_of_a_single_customer_or_identical_values_are_the_middle_score():
	assert quintile_scores([7.0]).tolist() == [3]
	assert quintile_scores([2.0] * 6).tolist() == [3] * 6
	assert quintile_scores([]).tolist() == []


def test_tied_values_share_a_score():
	scores = quintile_scores([1, 1, 1, 1, 5, 6, 7, 8, 9, 10])
	assert len(set(scores[:4].tolist())) == 1


@pytest.mark.parametrize(
	("r", "f", "m", "segment"),
	[
		(5, 5, 5, "Champions"),
		(4, 4, 5, "Loyal"),
		(3, 5, 4, "Loyal"),
		(5, 3, 2, "Potential Loyalist"),
		(5, 1, 1, "New"),
		(4, 1, 1, "Promising"),
		(3, 3, 3, "Need Attention"),
		(3, 2, 1, "About to Sleep"),
		(2, 4, 3, "At Risk"),
		(1, 5, 5, "Can't Lose Them"),
		(2, 1, 2, "Hibernating"),
		(1, 1, 1, "Lost"),
	],
)
def test_segment_grid_maps_recency_against_frequency_monetary(r, f, m, segment):
	assert rfm_segment(r, f, m) == segment


def test_every_named_segment_is_reachable_and_every_score_combination_has_one():
	reached = {rfm_segment(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
	assert reached == set(SEGMENTS)


def test_empty_population_scores_nothing():
	assert score_rfm({}) == {}


@given(
	st.lists(
		st.tuples(st.integers(0, 365), st.integers(1, 40), st.floats(-1e6, 1e6, allow_nan=False)),
		min_size=1,
		max_size=60,
	)
)
def test_scores_stay_within_one_to_five_and_follow_frequency_order(rows):
	values = {
		i: RfmValues(recency, frequency, monetary) for i, (recency, frequency, monetary) in enumerate(rows)
	}
	scores = score_rfm(values)
	assert all(1 <= s.r_score <= 5 and 1 <= s.f_score <= 5 and 1 <= s.m_score <= 5 for s in scores.values())
	assert all(s.segment in SEGMENTS for s in scores.values())
	by_frequency = sorted(scores.values(), key=lambda s: s.frequency)
	assert all(a.f_score <= b.f_score for a, b in pairwise(by_frequency))


@given(st.lists(st.integers(-20, 20) | st.sampled_from([0.1, 0.2, 1e9]), min_size=1, max_size=80))
def test_four_cut_values_score_exactly_like_ranking_the_whole_population(values):
	cuts = quintile_cuts(InMemoryColumn(values))
	assert [score_from_cuts(value, cuts) for value in values] == quintile_scores(values).tolist()


def test_cuts_of_an_empty_population_are_never_reached():
	assert quintile_cuts(InMemoryColumn([])) == (math.inf,) * 4


@given(
	st.lists(
		st.tuples(st.integers(0, 365), st.integers(0, 12), st.integers(-50, 500)),
		min_size=1,
		max_size=60,
	),
	st.integers(1, 7),
)
def test_scoring_a_chunk_at_a_time_against_population_cuts_equals_scoring_everyone_at_once(rows, chunk):
	values = {
		i: RfmValues(recency, frequency, float(monetary))
		for i, (recency, frequency, monetary) in enumerate(rows)
	}
	cuts = population_cuts(values.values())
	keys = list(values)
	chunked = {}
	for start in range(0, len(keys), chunk):
		chunked.update(score_rfm({key: values[key] for key in keys[start : start + chunk]}, cuts))
	assert chunked == score_rfm(values)


@given(st.lists(st.integers(0, 30), max_size=80))
def test_a_histogram_of_the_values_gives_the_same_cuts_as_the_values_themselves(values):
	counts = {}
	for value in values:
		counts[-value] = counts.get(-value, 0) + 1
	negated = [-value for value in values]
	assert quintile_cuts(CountedColumn(counts)) == quintile_cuts(InMemoryColumn(negated))
