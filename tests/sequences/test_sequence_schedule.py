from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_extension.sequences.engine.schedule import (
	add_business_days,
	due_at,
	is_working_day,
	next_slot,
	window_close,
)

UTC = timezone.utc
NINE, FIVE = time(9, 0), time(17, 0)
NO_HOLIDAYS = frozenset()
SAT_SUN = frozenset({5, 6})


def weekends(first: date, last: date, weekly_off=SAT_SUN) -> frozenset[date]:
	"""A Holiday List as ERPNext keeps it: the weekly offs listed as dates."""
	days = (first + timedelta(days=n) for n in range((last - first).days + 1))
	return frozenset(day for day in days if day.weekday() in weekly_off)


HOLIDAYS_2024 = weekends(date(2024, 1, 1), date(2025, 12, 31))


def local(naive_utc: datetime, zone: str) -> datetime:
	return naive_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))


# add_business_days


def test_zero_business_days_is_the_same_moment_even_on_a_holiday():
	saturday = datetime(2024, 6, 1, 22, 15, 7)
	assert add_business_days(saturday, 0, HOLIDAYS_2024) == saturday


def test_one_business_day_after_a_friday_is_monday_at_the_same_time():
	assert add_business_days(datetime(2024, 6, 7, 16, 30), 1, HOLIDAYS_2024) == datetime(2024, 6, 10, 16, 30)


def test_weekly_offs_apply_when_there_is_no_holiday_list():
	friday = datetime(2024, 6, 7, 10, 0)
	assert add_business_days(friday, 2, NO_HOLIDAYS, weekly_off=SAT_SUN) == datetime(2024, 6, 11, 10, 0)
	assert add_business_days(friday, 2, NO_HOLIDAYS) == datetime(2024, 6, 9, 10, 0)


def test_a_holiday_run_spanning_a_weekend_is_skipped_as_a_whole():
	# Thursday 26 December to Monday 30 December: two holidays, the weekend, one more holiday.
	run = frozenset({date(2024, 12, 26), date(2024, 12, 27), date(2024, 12, 30)}) | HOLIDAYS_2024
	wednesday = datetime(2024, 12, 25, 11, 0)
	assert add_business_days(wednesday, 1, run) == datetime(2024, 12, 31, 11, 0)
	assert add_business_days(wednesday, 2, run) == datetime(2025, 1, 1, 11, 0)


def test_counting_starts_after_a_start_that_falls_on_a_holiday():
	saturday = datetime(2024, 6, 8, 9, 0)
	assert add_business_days(saturday, 1, HOLIDAYS_2024) == datetime(2024, 6, 10, 9, 0)


def test_a_negative_delay_is_refused():
	with pytest.raises(ValueError):
		add_business_days(datetime(2024, 6, 3), -1, NO_HOLIDAYS)


def test_a_calendar_without_working_days_is_reported_not_looped_forever():
	with pytest.raises(ValueError, match="Holiday List"):
		add_business_days(datetime(2024, 6, 3), 1, NO_HOLIDAYS, weekly_off=frozenset(range(7)))


@given(
	start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 6, 30)),
	days=st.integers(min_value=0, max_value=40),
	extra=st.sets(st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31)), max_size=60),
)
def test_business_days_land_on_a_working_day_after_exactly_that_many_working_days(start, days, extra):
	holidays = HOLIDAYS_2024 | frozenset(extra)
	result = add_business_days(start, days, holidays)
	between = [start.date() + timedelta(days=n) for n in range(1, (result.date() - start.date()).days + 1)]
	assert result.time() == start.time()
	assert sum(is_working_day(day, holidays) for day in between) == days
	assert days == 0 or is_working_day(result.date(), holidays)


# next_slot


def test_before_the_window_the_slot_is_the_window_start_that_day():
	assert next_slot(datetime(2024, 6, 3, 7, 0), HOLIDAYS_2024, NINE, FIVE, "UTC", "UTC") == datetime(
		2024, 6, 3, 9, 0
	)


def test_inside_the_window_the_slot_is_the_moment_itself():
	moment = datetime(2024, 6, 3, 13, 27, 45)
	assert next_slot(moment, HOLIDAYS_2024, NINE, FIVE, "UTC", "UTC") == moment


def test_the_window_end_is_excluded_so_five_oclock_waits_for_the_next_working_day():
	assert next_slot(datetime(2024, 6, 7, 17, 0), HOLIDAYS_2024, NINE, FIVE, "UTC", "UTC") == datetime(
		2024, 6, 10, 9, 0
	)


def test_a_holiday_run_spanning_a_weekend_moves_the_slot_past_all_of_it():
	run = frozenset({date(2024, 12, 26), date(2024, 12, 27), date(2024, 12, 30)}) | HOLIDAYS_2024
	assert next_slot(datetime(2024, 12, 26, 10, 0), run, NINE, FIVE, "UTC", "UTC") == datetime(
		2024, 12, 31, 9, 0
	)


def test_the_window_is_in_the_partys_time_zone_and_the_result_in_the_sites():
	# 07:00 UTC is 03:00 in New York (EDT, UTC-4): the slot is 09:00 there, 13:00 UTC, 16:30 in Tehran.
	moment = datetime(2024, 6, 3, 7, 0)
	assert next_slot(moment, HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC") == datetime(
		2024, 6, 3, 13, 0
	)
	tehran_site = next_slot(
		datetime(2024, 6, 3, 10, 30), HOLIDAYS_2024, NINE, FIVE, "America/New_York", "Asia/Tehran"
	)
	assert tehran_site == datetime(2024, 6, 3, 16, 30)


def test_working_days_are_the_partys_local_dates():
	# Monday 02:00 UTC is still Sunday 22:00 in New York: the first slot is Monday 09:00 there.
	monday_utc = datetime(2024, 6, 3, 2, 0)
	assert next_slot(monday_utc, HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC") == datetime(
		2024, 6, 3, 13, 0
	)


def test_tehrans_half_hour_offset_puts_nine_oclock_at_half_past_five_utc():
	# 04:00 UTC is 07:30 in Tehran (UTC+3:30, no daylight saving since 2022).
	assert next_slot(datetime(2024, 6, 1, 4, 0), NO_HOLIDAYS, NINE, FIVE, "Asia/Tehran", "UTC") == datetime(
		2024, 6, 1, 5, 30
	)


def test_tehrans_window_closes_at_half_past_one_utc_and_its_friday_weekend_is_skipped():
	iran_weekend = weekends(date(2024, 6, 1), date(2024, 6, 30), weekly_off={4})
	# Thursday 13:30 UTC is 17:00 in Tehran: closed; Friday is the weekend there; Saturday 09:00 opens.
	assert next_slot(
		datetime(2024, 6, 6, 13, 29), iran_weekend, NINE, FIVE, "Asia/Tehran", "UTC"
	) == datetime(2024, 6, 6, 13, 29)
	assert next_slot(
		datetime(2024, 6, 6, 13, 30), iran_weekend, NINE, FIVE, "Asia/Tehran", "UTC"
	) == datetime(2024, 6, 8, 5, 30)


def test_new_york_nine_oclock_moves_an_hour_earlier_in_utc_across_the_spring_change():
	friday = next_slot(datetime(2024, 3, 8, 6, 0), HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC")
	monday = next_slot(datetime(2024, 3, 11, 6, 0), HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC")
	assert (friday, monday) == (datetime(2024, 3, 8, 14, 0), datetime(2024, 3, 11, 13, 0))


def test_a_window_start_that_does_not_exist_on_the_dst_day_opens_at_the_first_real_moment_after_it():
	# 10 March 2024 in New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC); 02:30 never happens.
	slot = next_slot(datetime(2024, 3, 10, 5, 0), NO_HOLIDAYS, time(2, 30), FIVE, "America/New_York", "UTC")
	assert slot == datetime(2024, 3, 10, 7, 0)
	assert local(slot, "America/New_York").time() == time(3, 0)


def test_a_window_edge_that_happens_twice_on_the_fall_back_day_is_its_first_occurrence():
	# 3 November 2024 in New York: 01:00-02:00 happens in EDT (05:00-06:00 UTC), then again in EST.
	window = (time(1, 0), time(1, 30))
	first = next_slot(datetime(2024, 11, 3, 4, 0), NO_HOLIDAYS, *window, "America/New_York", "UTC")
	second_pass = next_slot(datetime(2024, 11, 3, 6, 10), NO_HOLIDAYS, *window, "America/New_York", "UTC")
	assert first == datetime(2024, 11, 3, 5, 0)
	assert second_pass == datetime(2024, 11, 4, 6, 0)


@pytest.mark.parametrize("tz", [None, "", "Mars/Olympus_Mons", "../etc/passwd", "Not a zone"])
def test_an_unknown_or_invalid_party_time_zone_falls_back_to_the_sites(tz):
	moment = datetime(2024, 6, 3, 7, 0)
	assert next_slot(moment, HOLIDAYS_2024, NINE, FIVE, tz, "Asia/Tehran") == next_slot(
		moment, HOLIDAYS_2024, NINE, FIVE, "Asia/Tehran", "Asia/Tehran"
	)


def test_an_aware_earliest_is_read_in_its_own_zone():
	aware = datetime(2024, 6, 3, 7, 0, tzinfo=ZoneInfo("Asia/Tehran"))  # 03:30 UTC
	assert next_slot(aware, HOLIDAYS_2024, NINE, FIVE, "UTC", "UTC") == datetime(2024, 6, 3, 9, 0)


def test_a_window_that_does_not_start_before_it_ends_is_refused():
	with pytest.raises(ValueError, match="window"):
		next_slot(datetime(2024, 6, 3), NO_HOLIDAYS, FIVE, NINE, "UTC", "UTC")


ZONES = ["UTC", "America/New_York", "Asia/Tehran", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]


@given(
	earliest=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 6, 30)),
	tz=st.sampled_from(ZONES),
	site=st.sampled_from(["UTC", "Asia/Tehran"]),
)
def test_the_slot_is_the_first_working_moment_inside_the_window_and_stable(earliest, tz, site):
	slot = next_slot(earliest, HOLIDAYS_2024, NINE, FIVE, tz, site)
	party_time = slot.replace(tzinfo=ZoneInfo(site)).astimezone(ZoneInfo(tz))
	assert slot.replace(tzinfo=ZoneInfo(site)) >= earliest.replace(tzinfo=ZoneInfo(site))
	assert NINE <= party_time.time() < FIVE
	assert is_working_day(party_time.date(), HOLIDAYS_2024)
	assert slot == earliest or party_time.time() == NINE
	assert next_slot(slot, HOLIDAYS_2024, NINE, FIVE, tz, site) == slot


# due_at


def test_due_at_counts_business_days_on_the_partys_calendar_across_the_dst_change():
	# Done Friday 8 March 10:00 in New York (15:00 UTC, EST); one business day later is Monday 10:00 EDT.
	assert due_at(
		datetime(2024, 3, 8, 15, 0), 1, HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC"
	) == datetime(2024, 3, 11, 14, 0)


def test_due_at_reads_a_friday_evening_as_friday_where_the_party_is():
	# Friday 20:00 in New York is already Saturday 00:00 UTC; one business day later is Monday 20:00 there
	# (Tuesday 00:00 UTC), inside a 09:00-21:00 window. Counted on the site's calendar it would be Monday
	# 00:00 UTC, a Sunday evening in New York.
	assert due_at(
		datetime(2024, 6, 8, 0, 0), 1, HOLIDAYS_2024, NINE, time(21, 0), "America/New_York", "UTC"
	) == datetime(2024, 6, 11, 0, 0)


def test_due_at_moves_a_late_evening_step_to_the_window_after_the_delay():
	# Friday 23:00 in New York plus one business day is Monday 23:00, after hours: Tuesday 09:00 there.
	assert due_at(
		datetime(2024, 6, 8, 3, 0), 1, HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC"
	) == datetime(2024, 6, 11, 13, 0)


def test_due_at_moves_a_step_landing_after_hours_to_the_next_window():
	assert due_at(datetime(2024, 6, 3, 18, 0), 2, HOLIDAYS_2024, NINE, FIVE, "UTC", "UTC") == datetime(
		2024, 6, 6, 9, 0
	)


def test_due_at_with_no_delay_is_the_next_slot():
	moment = datetime(2024, 6, 8, 12, 0)
	assert due_at(moment, 0, HOLIDAYS_2024, NINE, FIVE, "Asia/Tehran", "UTC") == next_slot(
		moment, HOLIDAYS_2024, NINE, FIVE, "Asia/Tehran", "UTC"
	)


# window_close


def test_the_window_closes_at_its_end_in_the_partys_time_zone():
	assert window_close(
		datetime(2024, 6, 3, 13, 0), HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC"
	) == datetime(2024, 6, 3, 21, 0)
	assert window_close(
		datetime(2024, 6, 1, 6, 0), NO_HOLIDAYS, NINE, FIVE, "Asia/Tehran", "UTC"
	) == datetime(2024, 6, 1, 13, 30)


@pytest.mark.parametrize(
	"moment",
	[datetime(2024, 6, 3, 12, 59), datetime(2024, 6, 3, 21, 0), datetime(2024, 6, 8, 15, 0)],
	ids=["before opening", "at closing", "on a Saturday"],
)
def test_outside_every_window_there_is_no_closing_time(moment):
	assert window_close(moment, HOLIDAYS_2024, NINE, FIVE, "America/New_York", "UTC") is None


@given(
	earliest=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 6, 30)),
	tz=st.sampled_from(ZONES),
)
def test_every_slot_has_a_closing_time_after_it(earliest, tz):
	slot = next_slot(earliest, HOLIDAYS_2024, NINE, FIVE, tz, "UTC")
	assert window_close(slot, HOLIDAYS_2024, NINE, FIVE, tz, "UTC") > slot
