from datetime import date

import pytest

from crm_extension.customer_value.engine.history import (
	InvoiceFact,
	purchase_dates,
	repeat_summary,
	repeat_summary_days,
	repeat_summary_from_days,
	summarize_customer,
)

END = date(2024, 3, 31)


def test_repeat_summary_counts_days_after_the_first_and_averages_their_margin():
	facts = [
		InvoiceFact(date(2024, 1, 1), 100.0, 40.0),
		InvoiceFact(date(2024, 1, 15), 60.0, 20.0),
		InvoiceFact(date(2024, 1, 15), 30.0, 10.0),
		InvoiceFact(date(2024, 2, 12), 50.0, 15.0),
	]
	summary = repeat_summary(facts, END)
	assert summary.frequency == 2
	assert summary.recency_weeks == pytest.approx(6.0)
	assert summary.age_weeks == pytest.approx(90 / 7)
	# (20 + 10 + 15) / 2 repeat days; the first day's margin is left out.
	assert summary.repeat_margin_mean == pytest.approx(22.5)


def test_later_returns_reduce_the_repeat_margin_but_are_not_purchases():
	facts = [
		InvoiceFact(date(2024, 1, 1), 100.0, 40.0),
		InvoiceFact(date(2024, 2, 1), 100.0, 40.0),
		InvoiceFact(date(2024, 3, 1), -50.0, -20.0),
	]
	summary = repeat_summary(facts, END)
	assert summary.frequency == 1
	assert summary.recency_weeks == pytest.approx(31 / 7)
	assert summary.repeat_margin_mean == pytest.approx(20.0)


def test_one_time_buyer_has_zero_repeats_and_zero_repeat_margin():
	summary = repeat_summary([InvoiceFact(date(2024, 3, 24), 10.0, 3.0)], END)
	assert (summary.frequency, summary.recency_weeks, summary.age_weeks) == (0, 0.0, 1.0)
	assert summary.repeat_margin_mean == 0.0


def test_customer_with_only_returns_or_only_future_invoices_has_no_repeat_summary():
	assert repeat_summary([InvoiceFact(date(2024, 1, 5), -10.0, -2.0)], END) is None
	assert repeat_summary([InvoiceFact(date(2024, 4, 5), 10.0, 2.0)], END) is None


def test_plain_tuples_without_margin_are_accepted():
	assert purchase_dates([(date(2024, 1, 1), 5.0), ("2024-01-02", -1.0)]) == [date(2024, 1, 1)]


def test_summarize_customer_keeps_rfm_and_the_window_margin():
	facts = [InvoiceFact(date(2022, 1, 1), 500.0, 200.0), InvoiceFact(date(2024, 3, 1), 100.0, 30.0)]
	history = summarize_customer(facts, END, window_days=365)
	assert history.window_margin == pytest.approx(30.0)
	assert history.rfm.frequency == 1
	assert history.rfm.monetary == pytest.approx(100.0)
	assert history.repeat.frequency == 1


def test_a_summary_stored_as_whole_days_reads_back_unchanged():
	facts = [InvoiceFact(date(2023, 2, 3), 10.0, 4.0), InvoiceFact(date(2024, 1, 9), 25.0, 9.0)]
	summary = repeat_summary(facts, END)
	stored = repeat_summary_days(summary)
	assert stored == (340, 422)
	assert repeat_summary_from_days(summary.frequency, *stored, summary.repeat_margin_mean) == summary
