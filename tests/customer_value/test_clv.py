import numpy as np
import pytest

from crm_extension.customer_value.engine.bgnbd import BgNbdParams, conditional_expected_purchases
from crm_extension.customer_value.engine.clv import (
	discount_schedule,
	discounted_clv,
	fallback_clv,
	period_discount_rate,
	retention_proxy,
)
from crm_extension.customer_value.engine.dates import WEEKS_PER_MONTH

PARAMS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
X, T_X, T = np.array([0, 2, 10]), np.array([0.0, 30.43, 37.0]), np.array([38.86, 38.86, 38.0])
MARGIN = np.array([10.0, 20.0, 30.0])


def test_without_discounting_clv_is_margin_times_expected_purchases_over_the_horizon():
	clv = discounted_clv(PARAMS, X, T_X, T, MARGIN, horizon_months=12, annual_discount_rate=0.0)
	expected = MARGIN * conditional_expected_purchases(PARAMS, 12 * WEEKS_PER_MONTH, X, T_X, T)
	assert clv == pytest.approx(expected, rel=1e-12)


def test_a_higher_discount_rate_lowers_clv():
	low = discounted_clv(PARAMS, X, T_X, T, MARGIN, annual_discount_rate=0.05)
	high = discounted_clv(PARAMS, X, T_X, T, MARGIN, annual_discount_rate=0.25)
	assert np.all(high < low)


def test_longer_horizons_are_worth_more():
	year = discounted_clv(PARAMS, X, T_X, T, MARGIN, horizon_months=12)
	three_years = discounted_clv(PARAMS, X, T_X, T, MARGIN, horizon_months=36)
	assert np.all(three_years > year)


def test_weekly_and_monthly_discounting_agree_closely():
	monthly = discounted_clv(PARAMS, X, T_X, T, MARGIN, annual_discount_rate=0.2, period="month")
	weekly = discounted_clv(PARAMS, X, T_X, T, MARGIN, annual_discount_rate=0.2, period="week")
	assert weekly == pytest.approx(monthly, rel=0.02)


def test_clv_is_linear_in_margin_and_positive_for_one_time_buyers():
	clv = discounted_clv(PARAMS, X, T_X, T, MARGIN)
	doubled = discounted_clv(PARAMS, X, T_X, T, 2 * MARGIN)
	assert doubled == pytest.approx(2 * clv)
	assert clv[0] > 0


def test_period_rate_compounds_to_the_annual_rate():
	assert (1 + period_discount_rate(0.12, 12)) ** 12 == pytest.approx(1.12)


def test_discount_schedule_counts_months_or_whole_weeks():
	assert discount_schedule(12, "month") == (12, WEEKS_PER_MONTH, 12.0)
	assert discount_schedule(12, "week")[0] == 52
	with pytest.raises(ValueError):
		discount_schedule(12, "day")


def test_retention_proxy_falls_from_one_today_to_zero_after_a_silent_window():
	assert retention_proxy([0, 73, 365, 800, np.nan], 365) == pytest.approx([1.0, 0.8, 0.0, 0.0, 0.0])


def test_fallback_clv_is_run_rate_times_horizon_times_retention():
	clv = fallback_clv(window_margin=[1200.0, 1200.0, 0.0], recency_days=[0, 73, 0], window_days=365)
	twelve_months_of_daily_margin = 1200.0 / 365 * 365.25
	assert clv == pytest.approx([twelve_months_of_daily_margin, 0.8 * twelve_months_of_daily_margin, 0.0])
