import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad

from crm_extension.customer_value.engine.gamma_gamma import (
	GammaGammaParams,
	conditional_expected_value,
	fit_gamma_gamma,
	log_likelihood_terms,
	population_mean_value,
)

from .simulate import simulate_gamma_gamma

CDNOW_PARAMS = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


@pytest.fixture(scope="module")
def simulated():
	truth = GammaGammaParams(p=4.0, q=5.0, gamma=60.0)
	x = np.random.default_rng(3).integers(1, 12, 8_000)
	return truth, x, simulate_gamma_gamma(truth, x, seed=11)


@pytest.mark.parametrize("x", [1, 3, 10])
def test_density_of_the_average_value_integrates_to_one(x):
	def density(m):
		return np.exp(log_likelihood_terms(CDNOW_PARAMS, x, m))

	total, _error = quad(density, 0, np.inf, limit=200)
	assert total == pytest.approx(1.0, abs=1e-6)


def test_customer_without_repeat_purchases_is_expected_to_spend_the_population_mean():
	expected = conditional_expected_value(CDNOW_PARAMS, [0], [0.0])
	assert expected[0] == pytest.approx(population_mean_value(CDNOW_PARAMS))
	assert population_mean_value(CDNOW_PARAMS) == pytest.approx(6.25 * 15.44 / 2.74)


def test_expected_value_moves_from_the_population_mean_towards_the_customer_mean_with_more_purchases():
	population = population_mean_value(CDNOW_PARAMS)
	observed = 100.0
	expected = conditional_expected_value(CDNOW_PARAMS, [1, 5, 50, 5000], [observed] * 4)
	assert np.all(np.diff(expected) > 0)
	assert population < expected[0]
	assert expected[-1] == pytest.approx(observed, rel=1e-3)


def test_non_positive_average_is_treated_as_zero_and_never_predicts_a_negative_value():
	expected = conditional_expected_value(CDNOW_PARAMS, [2, 2], [-40.0, 0.0])
	assert expected[0] == pytest.approx(expected[1])
	assert expected[0] > 0


def test_population_mean_is_infinite_when_q_is_at_most_one():
	assert population_mean_value(GammaGammaParams(p=2.0, q=0.9, gamma=5.0)) == float("inf")


def test_fit_skips_customers_without_repeats_or_without_positive_value():
	fit = fit_gamma_gamma([0, 1, 2, 3, 4], [0.0, -5.0, 20.0, 30.0, 25.0])
	assert fit.customers == 3


def test_fit_with_no_usable_customer_is_not_converged():
	assert not fit_gamma_gamma([0, 0], [0.0, 0.0]).converged


def test_fit_recovers_the_parameters_of_simulated_customers(simulated):
	truth, x, m_x = simulated
	fit = fit_gamma_gamma(x, m_x)
	assert fit.converged
	assert fit.params.p == pytest.approx(truth.p, rel=0.1)
	assert fit.params.q == pytest.approx(truth.q, rel=0.1)
	assert fit.params.gamma == pytest.approx(truth.gamma, rel=0.15)


def test_rescaling_values_rescales_gamma_only(simulated):
	_truth, x, m_x = simulated
	base, scaled = fit_gamma_gamma(x, m_x), fit_gamma_gamma(x, 0.3 * m_x)
	assert scaled.params.p == pytest.approx(base.params.p, rel=1e-3)
	assert scaled.params.q == pytest.approx(base.params.q, rel=1e-3)
	assert scaled.params.gamma == pytest.approx(0.3 * base.params.gamma, rel=1e-3)


@given(st.integers(1, 200), st.floats(0.01, 1e5))
def test_expected_value_lies_between_population_mean_and_observed_mean(x, observed):
	expected = conditional_expected_value(CDNOW_PARAMS, x, observed)
	population = population_mean_value(CDNOW_PARAMS)
	assert min(population, observed) * (1 - 1e-9) <= expected <= max(population, observed) * (1 + 1e-9)
