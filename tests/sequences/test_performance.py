from hypothesis import given
from hypothesis import strategies as st

from crm_extension.sequences.engine.ab import wilson_interval
from crm_extension.sequences.engine.performance import reply_rate_chart, summarise

SEQ = "Welcome"
STEPS = [
	{"sequence": SEQ, "idx": 1, "step_type": "Automatic Email", "variant_b_template": "Intro B"},
	{"sequence": SEQ, "idx": 2, "step_type": "Call Task"},
	{"sequence": SEQ, "idx": 3, "step_type": "Automatic Email"},
]


def enrollment(name, status="Active", exit_reason=None, sequence=SEQ):
	return {"name": name, "sequence": sequence, "status": status, "exit_reason": exit_reason}


def run(enrollment_name, idx, step_type="Automatic Email", channel="Email", variant=None, **values):
	row = {
		"enrollment": enrollment_name,
		"sequence": SEQ,
		"step_idx": idx,
		"step_type": step_type,
		"channel_type": channel,
		"variant": variant,
		"communication": f"COMM-{enrollment_name}-{idx}" if step_type == "Automatic Email" else None,
		"opened": 0,
		"clicked": None,
	}
	return {**row, **values}


def only(result):
	assert len(result) == 1
	return result[0]


def test_enrollments_are_counted_by_status_and_exit_reason():
	result = only(
		summarise(
			STEPS,
			[
				enrollment("e1"),
				enrollment("e2", "Paused"),
				enrollment("e3", "Finished", "Finished"),
				enrollment("e4", "Exited", "Replied"),
				enrollment("e5", "Exited", "Won"),
				enrollment("e6", "Exited", "Unenrolled"),
			],
			[],
		)
	)
	assert (result["enrolled"], result["active"], result["finished"]) == (6, 2, 1)
	assert result["exited"] == {"Replied": 1, "Meeting": 0, "Bounced": 0, "Unsubscribed": 0, "Unenrolled": 1}
	assert result["exited_other"] == 1
	assert result["replied"] == 1
	assert result["reply_rate"] == 1 / 6


def test_a_reply_counts_for_the_last_step_the_enrollment_executed():
	result = only(
		summarise(
			STEPS,
			[enrollment("e1", "Exited", "Replied"), enrollment("e2", "Exited", "Meeting")],
			[
				run("e1", 1),
				run("e1", 2, "Call Task", "Voice"),
				run("e2", 1),
			],
		)
	)
	by_idx = {step["idx"]: step for step in result["steps"]}
	assert (by_idx[1]["replied"], by_idx[1]["meetings"]) == (0, 1)
	assert (by_idx[2]["replied"], by_idx[2]["executed"], by_idx[2]["reply_rate"]) == (1, 1, 1.0)
	assert by_idx[1]["reply_rate"] == 0.0
	assert by_idx[3]["executed"] == 0 and by_idx[3]["reply_rate"] is None


def test_a_reply_before_any_step_counts_for_the_sequence_only():
	result = only(summarise(STEPS, [enrollment("e1", "Exited", "Replied")], []))
	assert result["replied"] == 1
	assert sum(step["replied"] for step in result["steps"]) == 0


def test_emails_sent_opened_and_clicked_count_only_runs_with_an_email():
	result = only(
		summarise(
			STEPS,
			[enrollment("e1"), enrollment("e2")],
			[
				run("e1", 1, opened=1, clicked="2026-12-01 10:00:00"),
				run("e2", 1, opened=1),
				run("e1", 2, "Call Task", "Voice", opened=1),
			],
		)
	)
	step = result["steps"][0]
	assert (step["emails_sent"], step["opened"], step["clicked"]) == (2, 2, 1)
	assert (result["emails_sent"], result["opened"], result["clicked"], result["executed"]) == (2, 2, 1, 3)


def test_reply_rate_per_channel_uses_the_channel_the_step_ran_on():
	result = only(
		summarise(
			STEPS,
			[enrollment("e1", "Exited", "Replied"), enrollment("e2"), enrollment("e3")],
			[
				run("e1", 1, "Call Task", "Voice"),  # step 1 ran as a call on the preferred channel
				run("e2", 1),
				run("e3", 1),
				run("e3", 2, "Wait", None),
			],
		)
	)
	channels = {row["channel_type"]: row for row in result["channels"]}
	assert set(channels) == {"Email", "Voice"}
	assert (channels["Voice"]["replied"], channels["Voice"]["reply_rate"]) == (1, 1.0)
	assert (channels["Email"]["executed"], channels["Email"]["reply_rate"]) == (2, 0.0)


def test_variants_get_their_reply_rate_and_wilson_interval_and_no_verdict_without_both_arms():
	enrollments = [enrollment("a1", "Exited", "Replied"), enrollment("a2")]
	runs = [run("a1", 1, variant="A"), run("a2", 1, variant="A")]
	ab = only(summarise(STEPS, enrollments, runs))["steps"][0]["ab"]
	assert ab["verdict"] == "no_data"
	assert ab["rate_a"] == 0.5 and ab["rate_b"] is None
	assert ab["ci_a"] == wilson_interval(1, 2)
	assert ab["trials"] == {"A": 2, "B": 0}


def test_a_large_difference_between_variants_is_significant_and_names_the_leader():
	enrollments, runs = [], []
	for n in range(100):
		variant = "A" if n % 2 else "B"
		replied = (variant == "A" and n % 5 != 0) or (variant == "B" and n % 10 == 0)
		name = f"e{n}"
		enrollments.append(
			enrollment(name, "Exited" if replied else "Active", "Replied" if replied else None)
		)
		runs.append(run(name, 1, variant=variant))
	ab = only(summarise(STEPS, enrollments, runs))["steps"][0]["ab"]
	assert ab["verdict"] == "significant"
	assert ab["leader"] == "A"


def test_a_small_difference_is_not_significant_yet():
	enrollments = [
		enrollment("a1", "Exited", "Replied"),
		enrollment("a2"),
		enrollment("b1"),
		enrollment("b2"),
	]
	runs = [run(name, 1, variant=name[0].upper()) for name in ("a1", "a2", "b1", "b2")]
	ab = only(summarise(STEPS, enrollments, runs))["steps"][0]["ab"]
	assert ab["verdict"] == "not_significant"
	assert ab["leader"] == "A"


def test_steps_without_a_variant_b_have_no_comparison():
	result = only(summarise(STEPS, [], []))
	assert [step["ab"] is None for step in result["steps"]] == [False, True, True]


def test_a_run_of_a_step_removed_since_keeps_a_row_of_its_own():
	result = only(summarise(STEPS, [enrollment("e1")], [run("e1", 7, "Visit Task", "Visit")]))
	assert [step["idx"] for step in result["steps"]] == [1, 2, 3, 7]


def test_sequences_stay_apart():
	other = [{"sequence": "Other", "idx": 1, "step_type": "Call Task"}]
	result = summarise(
		STEPS + other,
		[enrollment("e1"), enrollment("o1", sequence="Other")],
		[run("e1", 1), {**run("o1", 1, "Call Task", "Voice"), "sequence": "Other"}],
	)
	assert [(row["sequence"], row["enrolled"], row["executed"]) for row in result] == [
		(SEQ, 1, 1),
		("Other", 1, 1),
	]


def test_the_chart_has_a_reply_rate_per_step_in_percent():
	result = summarise(STEPS, [enrollment("e1", "Exited", "Replied")], [run("e1", 1)])
	chart = reply_rate_chart(result, with_sequence=False)
	assert chart["labels"] == ["1. Automatic Email", "2. Call Task", "3. Automatic Email"]
	assert chart["values"] == [100.0, 0, 0]
	assert reply_rate_chart(result, with_sequence=True)["labels"][0] == f"{SEQ} · 1. Automatic Email"


journeys = st.lists(
	st.tuples(
		st.integers(min_value=0, max_value=3),  # steps executed
		st.sampled_from([None, "Replied", "Meeting", "Bounced", "Finished"]),
		st.sampled_from(["A", "B"]),
	),
	max_size=40,
)


@given(journeys)
def test_replies_attributed_to_steps_never_exceed_the_sequences_replies_or_a_steps_runs(cases):
	enrollments, runs = [], []
	for n, (executed, reason, variant) in enumerate(cases):
		name = f"e{n}"
		status = "Active" if reason is None else ("Finished" if reason == "Finished" else "Exited")
		enrollments.append(enrollment(name, status, reason))
		runs += [run(name, idx, variant=variant if idx == 1 else None) for idx in range(1, executed + 1)]
	result = only(summarise(STEPS, enrollments, runs))
	assert result["enrolled"] == len(cases)
	assert sum(step["replied"] for step in result["steps"]) <= result["replied"]
	for step in result["steps"]:
		assert 0 <= step["replied"] + step["meetings"] <= step["executed"]
		assert step["opened"] <= step["emails_sent"] <= step["executed"]
		if step["ab"]:
			assert sum(step["ab"]["trials"].values()) == step["executed"]
	assert result["active"] + result["finished"] + sum(result["exited"].values()) + result[
		"exited_other"
	] == len(cases)


def test_a_failed_run_counts_as_failed_and_a_reply_goes_to_the_last_step_that_ran():
	result = only(
		summarise(
			STEPS,
			[enrollment("e1", "Exited", "Replied")],
			[
				run("e1", 1),
				run("e1", 2, "Call Task", "Voice"),
				run("e1", 3, communication=None, status="Failed"),
			],
		)
	)
	by_idx = {step["idx"]: step for step in result["steps"]}
	assert (by_idx[3]["failed"], by_idx[3]["executed"], by_idx[3]["replied"]) == (1, 0, 0)
	assert by_idx[2]["replied"] == 1
	assert (result["failed"], result["executed"]) == (1, 2)
	assert {row["channel_type"] for row in result["channels"]} == {"Email", "Voice"}
