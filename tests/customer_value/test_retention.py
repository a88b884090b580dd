from datetime import date, timedelta

from crm_extension.customer_value.engine.retention import dates_to_drop

TODAY = date(2026, 12, 4)


def test_the_last_daily_days_are_kept_whole_and_older_months_keep_their_last_snapshot():
	days = [TODAY - timedelta(days=n) for n in range(0, 200)]

	dropped = set(dates_to_drop(days, TODAY, daily_days=90))

	kept = sorted(set(days) - dropped)
	cutoff = TODAY - timedelta(days=90)
	assert [day for day in kept if day >= cutoff] == [day for day in days[::-1] if day >= cutoff]
	assert [day for day in kept if day < cutoff] == [
		date(2026, 5, 31),
		date(2026, 6, 30),
		date(2026, 7, 31),
		date(2026, 8, 31),
		date(2026, 9, 4),  # the last snapshot before the daily window in September
	]


def test_a_month_without_a_snapshot_on_its_last_day_keeps_its_latest_one():
	days = [date(2026, 3, 2), date(2026, 3, 17), date(2026, 3, 28)]

	assert dates_to_drop(days, TODAY, daily_days=90) == [date(2026, 3, 2), date(2026, 3, 17)]


def test_zero_daily_days_keeps_every_snapshot():
	assert dates_to_drop([date(2020, 1, 1), date(2020, 1, 2)], TODAY, daily_days=0) == []
