from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import beta as beta_function
from scipy.special import gamma as gamma_function
from scipy.special import hyp2f1

from crm_extension.customer_value.engine.bgnbd import (
	BgNbdParams,
	_expected_if_alive_with_concentrated_dropout,
	conditional_expected_purchases,
	expected_purchases_new_customer,
	fit_bgnbd,
	log_likelihood_terms,
	probability_alive,
	purchase_summary,
)

from .simulate import simulate_bgnbd

CDNOW_PARAMS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)

params_strategy = st.builds(
	BgNbdParams,
	r=st.floats(0.05, 5),
	alpha=st.floats(0.5, 50),
	a=st.floats(0.1, 5).filter(lambda a: abs(a - 1) > 0.05),
	b=st.floats(0.1, 10),
)


@st.composite
def histories(draw):
	T = draw(st.floats(0.5, 104))
	x = draw(st.integers(0, 40))
	t_x = draw(st.floats(0, T)) if x else 0.0
	return x, t_x, T


@pytest.fixture(scope="module")
def simulated():
	truth = BgNbdParams(r=0.6, alpha=5.0, a=0.9, b=2.8)
	return truth, simulate_bgnbd(truth, customers=20_000, T_range=(26, 52), holdout_weeks=26, seed=7)


def test_purchase_summary_counts_repeat_days_in_weeks_and_ignores_later_dates():
	dates = [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 5), date(2024, 5, 1)]
	assert purchase_summary(dates, date(2024, 2, 26)) == (2, 5.0, 8.0)


def test_purchase_summary_of_one_time_buyer_and_of_no_purchase():
	assert purchase_summary([date(2024, 1, 1)], date(2024, 1, 8)) == (0, 0.0, 1.0)
	assert purchase_summary([date(2024, 3, 1)], date(2024, 1, 8)) is None


def test_log_likelihood_matches_the_paper_formula_evaluated_directly():
	r, alpha, a, b = 0.5, 3.0, 0.8, 2.0
	x, t_x, T = 3, 20.0, 30.0
	gamma_part = gamma_function(r + x) * alpha**r / gamma_function(r)
	alive = beta_function(a, b + x) / beta_function(a, b) * gamma_part / (alpha + T) ** (r + x)
	dropped = beta_function(a + 1, b + x - 1) / beta_function(a, b) * gamma_part / (alpha + t_x) ** (r + x)
	computed = log_likelihood_terms(BgNbdParams(r, alpha, a, b), [x, 0], [t_x, 0], [T, T])
	assert computed[0] == pytest.approx(np.log(alive + dropped), rel=1e-12)
	assert computed[1] == pytest.approx(np.log((alpha / (alpha + T)) ** r), rel=1e-12)


def test_log_likelihood_stays_finite_for_heavy_buyers():
	terms = log_likelihood_terms(CDNOW_PARAMS, [500, 2000], [50.0, 52.0], [52.0, 52.0])
	assert np.all(np.isfinite(terms))


def test_customers_without_repeat_purchases_are_certainly_alive():
	assert probability_alive(CDNOW_PARAMS, [0, 0], [0.0, 0.0], [1.0, 80.0]).tolist() == [1.0, 1.0]


def test_expected_purchases_follow_the_paper_equation_evaluated_directly():
	params = BgNbdParams(r=0.5, alpha=3.0, a=0.8, b=2.0)
	x, t_x, T, t = 3, 20.0, 30.0, 26.0
	r, alpha, a, b = params.r, params.alpha, params.a, params.b
	hypergeometric = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
	numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hypergeometric)
	denominator = 1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
	assert conditional_expected_purchases(params, t, x, t_x, T) == pytest.approx(
		numerator / denominator, rel=1e-9
	)


def test_new_customer_expectation_follows_paper_equation_seven():
	r, alpha, a, b = CDNOW_PARAMS.r, CDNOW_PARAMS.alpha, CDNOW_PARAMS.a, CDNOW_PARAMS.b
	t = 39.0
	direct = (
		(a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
	)
	assert expected_purchases_new_customer(CDNOW_PARAMS, t) == pytest.approx(direct, rel=1e-10)


def test_expected_purchases_are_zero_at_zero_horizon_and_grow_with_it():
	horizons = np.array([0.0, 1.0, 13.0, 52.0, 520.0])
	expected = conditional_expected_purchases(CDNOW_PARAMS, horizons, 4, 30.0, 38.0)
	assert expected[0] == pytest.approx(0.0, abs=1e-12)
	assert np.all(np.diff(expected) > 0)


def test_fit_needs_at_least_one_customer():
	with pytest.raises(ValueError):
		fit_bgnbd([], [], [])


def test_fit_recovers_the_parameters_of_simulated_customers(simulated):
	truth, data = simulated
	fit = fit_bgnbd(data.x, data.t_x, data.T)
	assert fit.converged
	assert fit.customers == 20_000
	# 20,000 customers pin r and α to a few percent; a and b are less identified, hence 20 %.
	assert fit.params.r == pytest.approx(truth.r, rel=0.05)
	assert fit.params.alpha == pytest.approx(truth.alpha, rel=0.08)
	assert fit.params.a == pytest.approx(truth.a, rel=0.2)
	assert fit.params.b == pytest.approx(truth.b, rel=0.2)


def test_probability_alive_matches_the_simulated_share_of_alive_customers(simulated):
	truth, data = simulated
	predicted = probability_alive(truth, data.x, data.t_x, data.T)
	repeaters = data.x > 0
	assert predicted[repeaters].mean() == pytest.approx(data.alive_at_T[repeaters].mean(), abs=0.01)


def test_conditional_expectation_matches_simulated_holdout_purchases(simulated):
	truth, data = simulated
	predicted = conditional_expected_purchases(truth, 26.0, data.x, data.t_x, data.T)
	for group in (data.x == 0, (data.x >= 1) & (data.x <= 3), data.x > 3):
		assert predicted[group].sum() == pytest.approx(data.holdout_purchases[group].sum(), rel=0.05)


@given(params_strategy, histories())
def test_probability_alive_is_a_probability(params, history):
	assert 0.0 <= probability_alive(params, *history) <= 1.0


@given(params_strategy, histories(), st.floats(0.01, 0.99))
def test_probability_alive_never_falls_when_the_last_purchase_is_more_recent(params, history, later):
	x, t_x, T = history
	if x == 0:
		return
	more_recent = t_x + later * (T - t_x)
	assert probability_alive(params, x, more_recent, T) >= probability_alive(params, x, t_x, T) - 1e-12


@given(params_strategy, histories(), st.floats(0.1, 260))
def test_expected_purchases_are_finite_and_non_negative(params, history, t):
	expected = conditional_expected_purchases(params, t, *history)
	assert np.isfinite(expected)
	assert expected >= -1e-9


def test_expected_purchases_are_continuous_through_the_removable_singularity_at_a_equal_one():
	at_one = conditional_expected_purchases(BgNbdParams(0.5, 3.0, 1.0, 2.0), 26.0, 3, 20.0, 30.0)
	below = conditional_expected_purchases(BgNbdParams(0.5, 3.0, 0.999, 2.0), 26.0, 3, 20.0, 30.0)
	above = conditional_expected_purchases(BgNbdParams(0.5, 3.0, 1.001, 2.0), 26.0, 3, 20.0, 30.0)
	assert np.isfinite(at_one)
	assert min(below, above) - 1e-6 <= at_one <= max(below, above) + 1e-6


def test_expected_purchases_stay_finite_when_the_dropout_fit_runs_to_huge_a_and_b():
	"""Exact eq. 10 overflows from a + b ≈ 10^4 (hyp2f1); the concentrated-dropout limit takes over there.
	Where both are computable (a + b = 3000) they agree to 0.5 %."""
	x, t_x = np.array([0.0, 2.0, 12.0, 5.0]), np.array([0.0, 1.5, 18.0, 20.0])
	T = np.array([30.0, 39.0, 29.0, 25.0])

	def params(scale: float) -> BgNbdParams:
		return BgNbdParams(r=0.57, alpha=1.9, a=0.17 * scale, b=0.83 * scale)

	exact = conditional_expected_purchases(params(3e3), 52.0, x, t_x, T)
	limit = _expected_if_alive_with_concentrated_dropout(params(3e3), 52.0, x, T) * probability_alive(
		params(3e3), x, t_x, T
	)
	np.testing.assert_allclose(limit, exact, rtol=5e-3)

	huge = conditional_expected_purchases(params(1e6), 52.0, x, t_x, T)
	assert np.all(np.isfinite(huge)) and np.all(huge >= 0)
	np.testing.assert_allclose(huge, exact, rtol=2e-2)
	# The fit that exposed it: 30 simulated customers, a = 5.9e5, b = 2.9e6.
	fitted = BgNbdParams(r=0.5654, alpha=1.9155, a=593306.09, b=2913053.61)
	assert np.all(np.isfinite(conditional_expected_purchases(fitted, 52.0, x, t_x, T)))
