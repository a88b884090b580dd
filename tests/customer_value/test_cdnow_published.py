"""Reproduce published CDNOW results from the raw transactions (tests/customer_value/data/README.md).

Data preparation: calibration 1997-01-01..1997-09-30, time in weeks (days / 7), same-day rows merged
into one purchase day, x = repeat purchase days, Gamma-Gamma input = mean dollar value per repeat day
(first purchase day left out) for customers with x >= 1. That is ``history.repeat_summary`` as used in
production, fed with dollars as margin.
"""

import numpy as np
import pytest

from crm_extension.customer_value.engine.bgnbd import (
	BgNbdParams,
	conditional_expected_purchases,
	expected_purchases_new_customer,
	fit_bgnbd,
)
from crm_extension.customer_value.engine.gamma_gamma import (
	conditional_expected_value,
	fit_gamma_gamma,
	population_mean_value,
)
from crm_extension.customer_value.engine.history import repeat_summary

from .conftest import CDNOW_CALIBRATION_END, CDNOW_HOLDOUT_END

PUBLISHED_TOLERANCE = 0.01  # each published estimate within 1 %
# Parameters as printed, to more digits, in the lifetimes documentation for the same data.
LIFETIMES_PARAMS = BgNbdParams(r=0.242593, alpha=4.413532, a=0.792886, b=2.425752)


@pytest.fixture(scope="module")
def summaries(cdnow_facts):
	rows = [repeat_summary(facts, CDNOW_CALIBRATION_END) for facts in cdnow_facts.values()]
	columns = zip(
		*[(s.frequency, s.recency_weeks, s.age_weeks, s.repeat_margin_mean) for s in rows], strict=True
	)
	return dict(zip(("x", "t_x", "T", "m_x"), (np.array(column) for column in columns), strict=True))


@pytest.fixture(scope="module")
def bgnbd_fit(summaries):
	return fit_bgnbd(summaries["x"], summaries["t_x"], summaries["T"])


@pytest.fixture(scope="module")
def gamma_gamma_fit(summaries):
	return fit_gamma_gamma(summaries["x"], summaries["m_x"])


def test_summary_matches_the_published_cohort(summaries, cdnow_facts):
	assert summaries["x"].size == 2357
	assert np.count_nonzero(summaries["x"]) == 946
	first = repeat_summary(cdnow_facts["0001"], CDNOW_CALIBRATION_END)
	assert (first.frequency, round(first.recency_weeks, 2), round(first.age_weeks, 2)) == (2, 30.43, 38.86)
	assert first.repeat_margin_mean == pytest.approx(22.345)


def test_bgnbd_fit_reproduces_the_published_estimates(bgnbd_fit):
	params = bgnbd_fit.params
	assert bgnbd_fit.converged
	assert params.r == pytest.approx(0.243, rel=PUBLISHED_TOLERANCE)
	assert params.alpha == pytest.approx(4.414, rel=PUBLISHED_TOLERANCE)
	assert params.a == pytest.approx(0.793, rel=PUBLISHED_TOLERANCE)
	assert params.b == pytest.approx(2.426, rel=PUBLISHED_TOLERANCE)
	assert bgnbd_fit.log_likelihood == pytest.approx(-9582.4, rel=PUBLISHED_TOLERANCE, abs=0.05)


def test_gamma_gamma_fit_reproduces_the_published_estimates(gamma_gamma_fit):
	params = gamma_gamma_fit.params
	assert gamma_gamma_fit.converged
	assert gamma_gamma_fit.customers == 946
	assert params.p == pytest.approx(6.25, rel=PUBLISHED_TOLERANCE)
	assert params.q == pytest.approx(3.74, rel=PUBLISHED_TOLERANCE)
	assert params.gamma == pytest.approx(15.44, rel=PUBLISHED_TOLERANCE)


def test_paper_example_expects_1_226_purchases_in_the_next_39_weeks(bgnbd_fit):
	# Fader, Hardie & Lee (2005), section 5: x = 2, t_x = 30.43, T = 38.86.
	published = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
	assert conditional_expected_purchases(published, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)
	assert conditional_expected_purchases(bgnbd_fit.params, 39, 2, 30.43, 38.86) == pytest.approx(
		1.226, abs=5e-4
	)


@pytest.mark.parametrize(
	("x", "t_x", "T", "documented"),
	[
		(26, 30.86, 31.00, 0.710623),
		(29, 37.71, 38.00, 0.662396),
		(17, 28.43, 28.86, 0.486526),
		(19, 34.00, 34.14, 0.474738),
		(18, 35.14, 35.86, 0.424877),
	],
)
def test_next_week_expectations_match_the_lifetimes_documentation(x, t_x, T, documented):
	assert conditional_expected_purchases(LIFETIMES_PARAMS, 1, x, t_x, T) == pytest.approx(
		documented, rel=1e-5
	)


@pytest.mark.parametrize(
	("x", "m_x", "documented"),
	[
		(2, 22.35, 24.658619),
		(1, 11.77, 18.911489),
		(7, 73.74, 71.462843),
		(2, 25.55, 27.282408),
		(0, 0.0, 35.170981),
	],
)
def test_expected_spend_matches_the_lifetimes_documentation(gamma_gamma_fit, x, m_x, documented):
	# lifetimes fitted on spend rounded to cents, we fit on the raw values: hence 0.02 %, not exact.
	assert conditional_expected_value(gamma_gamma_fit.params, x, m_x) == pytest.approx(documented, rel=2e-4)


def test_population_mean_spend_is_close_to_the_observed_repeat_average(gamma_gamma_fit, summaries):
	observed = summaries["m_x"][summaries["x"] > 0].mean()
	assert population_mean_value(gamma_gamma_fit.params) == pytest.approx(observed, rel=0.01)


def test_cumulative_repeat_purchases_track_actuals_through_week_78(bgnbd_fit, summaries, cdnow_facts):
	# The paper's tracking plot: each customer's expected repeat purchases from their first purchase to
	# 1998-06-30 (T + 39 weeks), against all repeat purchase days actually made by then.
	holdout_weeks = (CDNOW_HOLDOUT_END - CDNOW_CALIBRATION_END).days / 7
	predicted = expected_purchases_new_customer(bgnbd_fit.params, summaries["T"] + holdout_weeks).sum()
	actual = sum(repeat_summary(facts, CDNOW_HOLDOUT_END).frequency for facts in cdnow_facts.values())
	assert actual == 2457 + 1882
	assert predicted == pytest.approx(actual, rel=0.05)
