import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.stats import binomtest, chi2_contingency, norm

from crm_extension.sequences.engine.ab import choose_variant, compare, two_proportion_p_value, wilson_interval

counts = st.integers(min_value=0, max_value=400).flatmap(
	lambda trials: st.tuples(st.integers(min_value=0, max_value=trials), st.just(trials))
)


# choose_variant


def test_the_variant_is_a_or_b_and_the_same_every_time_for_the_same_enrollment():
	names = [f"ENR-{n:05d}" for n in range(200)]
	assert {choose_variant(name) for name in names} == {"A", "B"}
	assert [choose_variant(name) for name in names] == [choose_variant(name) for name in names]


def test_the_variant_does_not_depend_on_the_process_hash_seed():
	# Pinned values: a per-process ``hash()`` would give other answers in other workers.
	names = ("ENR-00003", "ENR-00004", "ENR-00005", "ENR-00006", "a1b2c3d4e5", "0a1b2c3d4e")
	assert [choose_variant(name) for name in names] == ["B", "A", "B", "A", "B", "A"]


def test_ten_thousand_enrollments_split_evenly_within_three_standard_deviations():
	as_a = sum(choose_variant(f"{n:010x}") == "A" for n in range(10_000))
	assert 4850 <= as_a <= 5150


# wilson_interval


@pytest.mark.parametrize(
	("successes", "trials", "low", "high"),
	[(5, 10, 0.2366, 0.7634), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (1, 100, 0.0018, 0.0545)],
)
def test_wilson_interval_matches_published_values(successes, trials, low, high):
	assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=1e-4)


@given(counts)
def test_wilson_interval_matches_scipys_and_contains_the_rate(count):
	successes, trials = count
	assume(trials > 0)
	z = norm.ppf(0.975)
	expected = binomtest(successes, trials).proportion_ci(0.95, method="wilson")
	low, high = wilson_interval(successes, trials, z=z)
	assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-9)
	assert 0.0 <= low <= successes / trials <= high <= 1.0


def test_wilson_interval_with_no_trials_is_everything():
	assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "trials"), [(-1, 10), (11, 10), (0, -1)])
def test_impossible_counts_are_refused(successes, trials):
	with pytest.raises(ValueError):
		wilson_interval(successes, trials)


# compare


def test_ten_in_a_hundred_against_twenty_in_a_hundred_is_just_significant():
	result = compare(10, 100, 20, 100)
	assert result["rate_a"] == 0.1 and result["rate_b"] == 0.2
	assert result["p_value"] == pytest.approx(0.0477, abs=1e-4)
	assert result["significant"] is True
	assert result["winner"] == "B"


def test_a_small_difference_on_small_samples_is_not_yet_significant():
	result = compare(3, 20, 5, 20)
	assert result["p_value"] == pytest.approx(0.4292, abs=1e-4)
	assert result["significant"] is False
	assert result["winner"] is None


@given(counts, counts)
def test_p_value_equals_a_chi_square_test_of_the_two_by_two_table(a, b):
	(a_success, a_trials), (b_success, b_trials) = a, b
	assume(a_trials and b_trials and 0 < a_success + b_success < a_trials + b_trials)
	table = [[a_success, a_trials - a_success], [b_success, b_trials - b_success]]
	expected = chi2_contingency(table, correction=False).pvalue
	assert two_proportion_p_value(a_success, a_trials, b_success, b_trials) == pytest.approx(
		expected, abs=1e-9
	)


def test_zero_trials_give_no_rates_and_no_significance():
	assert compare(0, 0, 0, 0) == {
		"rate_a": None,
		"rate_b": None,
		"ci_a": None,
		"ci_b": None,
		"p_value": None,
		"significant": False,
		"winner": None,
	}


def test_one_arm_without_trials_shows_the_other_arm_but_claims_nothing():
	result = compare(0, 0, 40, 50)
	assert (result["rate_a"], result["ci_a"], result["rate_b"]) == (None, None, 0.8)
	assert result["ci_b"] == pytest.approx(wilson_interval(40, 50))
	assert (result["p_value"], result["significant"]) == (None, False)


def test_identical_all_or_nothing_arms_have_p_value_one():
	assert compare(0, 30, 0, 40)["p_value"] == 1.0
	assert compare(30, 30, 40, 40)["significant"] is False


@given(counts, counts)
def test_significant_exactly_when_p_is_below_five_percent_with_trials_in_both_arms(a, b):
	result = compare(*a, *b)
	both = a[1] > 0 and b[1] > 0
	assert result["significant"] == (both and result["p_value"] < 0.05)


@given(counts, counts)
def test_a_winner_is_named_only_when_significant_and_it_is_the_higher_rate(a, b):
	result = compare(*a, *b)
	if not result["significant"]:
		assert result["winner"] is None
	else:
		assert result["winner"] == ("A" if result["rate_a"] > result["rate_b"] else "B")
		assert result["rate_a"] != result["rate_b"]
