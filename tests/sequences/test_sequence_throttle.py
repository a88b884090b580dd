from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crm_extension.sequences.engine.throttle import Limits, assign_send_times, next_free_time

NOW = datetime(2024, 6, 3, 10, 0)
DAY = timedelta(hours=24)
SECOND = timedelta(seconds=1)


def sends_in_window(sends, end):
	return sum(end - DAY < sent <= end for sent in sends)


def test_the_default_limits_are_200_a_day_and_30_seconds_apart():
	assert (Limits().per_24h, Limits().min_gap_seconds) == (200, 30)


def test_an_empty_setting_means_the_default_cap_never_unlimited():
	assert Limits(per_24h=0).per_24h == 200
	assert Limits(per_24h=None).per_24h == 200
	assert Limits(min_gap_seconds=-5).min_gap_seconds == 0


def test_500_due_emails_send_200_thirty_seconds_apart_and_300_wait():
	times = assign_send_times(NOW, [], 500, Limits())
	sent = [at for at in times if at]
	assert len(times) == 500
	assert sent == [NOW + timedelta(seconds=30 * n) for n in range(200)]
	assert times[200:] == [None] * 300


def test_the_waiting_emails_are_told_when_the_first_send_leaves_the_24_hour_window():
	sent = [at for at in assign_send_times(NOW, [], 500, Limits()) if at]
	assert next_free_time(NOW, sent, Limits()) == NOW + DAY


def test_a_full_day_of_earlier_sends_waits_for_the_oldest_to_expire():
	# 200 sends, one every 7 minutes, the oldest 23 h 20 min ago: the next one fits 40 minutes from now.
	recent = [NOW - timedelta(hours=23, minutes=20) + timedelta(minutes=7 * n) for n in range(200)]
	assert next_free_time(NOW, recent, Limits()) == NOW + timedelta(minutes=40)
	times = assign_send_times(NOW, recent, 3, Limits())
	assert times == [NOW + timedelta(minutes=40), NOW + timedelta(minutes=47), NOW + timedelta(minutes=54)]


def test_the_minimum_gap_counts_from_the_users_previous_email():
	recent = [NOW - timedelta(seconds=10)]
	assert assign_send_times(NOW, recent, 2, Limits()) == [
		NOW + timedelta(seconds=20),
		NOW + timedelta(seconds=50),
	]


def test_new_emails_queue_behind_already_scheduled_future_ones():
	recent = [NOW + timedelta(hours=1)]
	assert assign_send_times(NOW, recent, 1, Limits()) == [NOW + timedelta(hours=1, seconds=30)]


def test_emails_that_would_not_fit_before_not_after_wait():
	times = assign_send_times(NOW, [], 5, Limits(min_gap_seconds=60), not_after=NOW + timedelta(minutes=2))
	assert times == [NOW, NOW + timedelta(minutes=1), None, None, None]


def test_no_due_emails_get_no_times():
	assert assign_send_times(NOW, [NOW - SECOND], 0, Limits()) == []


def test_sends_older_than_a_day_do_not_count():
	old = [NOW - DAY - SECOND] * 500
	assert next_free_time(NOW, old, Limits()) == NOW


def brute_force_next_free(now, sends, limits):
	"""The smallest allowed time among the only candidates there are: the earliest by gap, or a moment an
	old send leaves the 24 h window."""
	start = max([now] + [sent + timedelta(seconds=limits.min_gap_seconds) for sent in sends])
	candidates = sorted({start} | {sent + DAY for sent in sends if sent + DAY > start})
	return next(at for at in candidates if sends_in_window(sends, at) < limits.per_24h)


offsets = st.lists(st.integers(min_value=-DAY.total_seconds() * 2, max_value=3600), max_size=40)


@given(
	offsets=offsets,
	due=st.integers(min_value=0, max_value=30),
	cap=st.integers(min_value=1, max_value=12),
	gap=st.integers(min_value=0, max_value=4000),
)
def test_limits_hold_exactly_for_any_history_and_any_number_due(offsets, due, cap, gap):
	limits = Limits(per_24h=cap, min_gap_seconds=gap)
	recent = [NOW + timedelta(seconds=offset) for offset in offsets]
	times = assign_send_times(NOW, recent, due, limits)
	assigned = [at for at in times if at is not None]
	assert len(times) == due
	assert times == assigned + [None] * (due - len(assigned))
	everything = sorted(recent + assigned)
	for at in assigned:
		assert at >= NOW
		assert sends_in_window(everything, at) <= cap
		assert all(abs(at - other) >= timedelta(seconds=gap) for other in everything if other is not at)
		assert at < NOW + DAY
	if len(assigned) < due:
		assert next_free_time(NOW, everything, limits) >= NOW + DAY


@given(
	offsets=offsets, cap=st.integers(min_value=1, max_value=12), gap=st.integers(min_value=0, max_value=4000)
)
def test_the_next_free_time_is_the_earliest_one_that_keeps_the_limits(offsets, cap, gap):
	limits = Limits(per_24h=cap, min_gap_seconds=gap)
	recent = [NOW + timedelta(seconds=offset) for offset in offsets]
	assert next_free_time(NOW, recent, limits) == brute_force_next_free(NOW, recent, limits)
