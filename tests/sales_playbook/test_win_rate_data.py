"""Learned win rates survive being stored as JSON (engine.win_rate_data)."""

import json

from crm_extension.sales_playbook.engine.recommend import ClosedDeal, WinRates, learn_win_rates
from crm_extension.sales_playbook.engine.win_rate_data import win_rates_from_data, win_rates_to_data


def test_win_rates_read_back_from_json_equal_the_learned_ones():
	rates = learn_win_rates(
		[
			ClosedDeal(True, "Analytical", "Question", "Default", frozenset({"call", "demo"})),
			ClosedDeal(False, "Driver", "Question", "Default", frozenset({"call"})),
			ClosedDeal(True, None, None, None),
		]
	)

	assert win_rates_from_data(json.loads(json.dumps(win_rates_to_data(rates)))) == rates


def test_no_data_reads_as_no_history():
	assert win_rates_from_data({}) == WinRates()
