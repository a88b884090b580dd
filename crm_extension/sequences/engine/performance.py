"""How sequences perform: per sequence and per step, from the rows the adapter reads set-based.

Inputs are plain mappings: the sequences' steps (``sequence``, ``idx``, ``step_type``, ``variant_b_template``),
their enrollments (``name``, ``sequence``, ``status``, ``exit_reason``) and the step runs of those
enrollments (``enrollment``, ``sequence``, ``step_idx``, ``step_type``, ``channel_type``, ``variant``,
``communication``, ``opened``, ``clicked``, ``status``: "Done" or "Failed").

A failed run (its template broke, no email account) counts as ``failed``, not as executed or sent.

Attribution: an enrollment that exited "Replied" counts as a reply to the last step it executed (its run with
the highest ``step_idx``), and one that exited "Meeting" as a meeting of that step. An enrollment that exited
before its first step counts in its sequence's totals only. Reply rate is replies / steps executed; per
channel (the step run's ``channel_type``; waits have none and are left out) the same over the channel's runs;
per sequence, replies / enrollments.
A step with a variant B template compares the variants' reply rates (``ab.compare``): ``verdict`` is
"no_data" until both variants have executed, then "significant" or "not_significant".
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_extension.sequences.engine.ab import VARIANTS, compare

REPLIED, MEETING = "Replied", "Meeting"
OPEN_STATUSES = ("Active", "Paused")
AUTOMATIC_EMAIL = "Automatic Email"
# Exit reasons with a column of their own; the rest add up in "other".
MAIN_EXIT_REASONS = ("Replied", "Meeting", "Bounced", "Unsubscribed", "Unenrolled")
FAILED = "Failed"
NO_DATA, SIGNIFICANT, NOT_SIGNIFICANT = "no_data", "significant", "not_significant"

__all__ = ["MAIN_EXIT_REASONS", "SequencePerformance", "StepPerformance", "reply_rate_chart", "summarise"]


@dataclass
class Counts:
	executed: int = 0
	emails_sent: int = 0
	opened: int = 0
	clicked: int = 0
	replied: int = 0
	meetings: int = 0
	failed: int = 0

	@property
	def reply_rate(self) -> float | None:
		return self.replied / self.executed if self.executed else None

	def add_run(self, run: Mapping[str, Any]) -> None:
		if run.get("status") == FAILED:
			self.failed += 1
			return
		self.executed += 1
		if run.get("communication"):
			self.emails_sent += 1
			self.opened += bool(run.get("opened"))
			self.clicked += bool(run.get("clicked"))

	def as_dict(self) -> dict:
		return {
			"executed": self.executed,
			"emails_sent": self.emails_sent,
			"opened": self.opened,
			"clicked": self.clicked,
			"replied": self.replied,
			"meetings": self.meetings,
			"failed": self.failed,
			"reply_rate": self.reply_rate,
		}


@dataclass
class StepPerformance(Counts):
	idx: int = 0
	step_type: str = ""
	has_variants: bool = False
	variants: dict[str, Counts] = field(default_factory=dict)

	def ab(self) -> dict | None:
		"""Each variant's reply rate with its Wilson 95 % interval and whether the difference is significant."""
		if not self.has_variants:
			return None
		a, b = (self.variants.get(variant, Counts()) for variant in VARIANTS)
		result = compare(a.replied, a.executed, b.replied, b.executed)
		if not (a.executed and b.executed):
			result["verdict"] = NO_DATA
		else:
			result["verdict"] = SIGNIFICANT if result["significant"] else NOT_SIGNIFICANT
		result["leader"] = _leader(result["rate_a"], result["rate_b"])
		result["trials"] = {"A": a.executed, "B": b.executed}
		result["replies"] = {"A": a.replied, "B": b.replied}
		return result

	def as_dict(self) -> dict:
		return {
			"idx": self.idx,
			"step_type": self.step_type,
			**super().as_dict(),
			"variants": {variant: counts.as_dict() for variant, counts in sorted(self.variants.items())},
			"ab": self.ab(),
		}


@dataclass
class SequencePerformance(Counts):
	sequence: str = ""
	enrolled: int = 0
	active: int = 0
	finished: int = 0
	exited: dict[str, int] = field(default_factory=dict)
	steps: dict[int, StepPerformance] = field(default_factory=dict)
	channels: dict[str, Counts] = field(default_factory=dict)

	@property
	def reply_rate(self) -> float | None:
		"""A sequence's reply rate is per enrollment: the share of its enrollments that ended in a reply."""
		return self.replied / self.enrolled if self.enrolled else None

	def as_dict(self) -> dict:
		main = {reason: self.exited.get(reason, 0) for reason in MAIN_EXIT_REASONS}
		other = sum(n for reason, n in self.exited.items() if reason not in MAIN_EXIT_REASONS)
		return {
			"sequence": self.sequence,
			"enrolled": self.enrolled,
			"active": self.active,
			"finished": self.finished,
			"exited": main,
			"exited_other": other,
			**super().as_dict(),
			"steps": [self.steps[idx].as_dict() for idx in sorted(self.steps)],
			"channels": [
				{"channel_type": channel, **counts.as_dict()}
				for channel, counts in sorted(self.channels.items())
			],
		}


def summarise(
	steps: Iterable[Mapping[str, Any]],
	enrollments: Iterable[Mapping[str, Any]],
	runs: Iterable[Mapping[str, Any]],
) -> list[dict]:
	"""Per sequence (in the order of ``steps``, then of ``enrollments``) its counts, steps and channels."""
	sequences: dict[str, SequencePerformance] = {}

	def of(name: str) -> SequencePerformance:
		return sequences.setdefault(name, SequencePerformance(sequence=name))

	for step in steps:
		of(step["sequence"]).steps[int(step["idx"])] = StepPerformance(
			idx=int(step["idx"]),
			step_type=step.get("step_type") or "",
			has_variants=bool(step.get("variant_b_template"))
			and (step.get("step_type") or AUTOMATIC_EMAIL) == AUTOMATIC_EMAIL,
		)
	exits: dict[str, str] = {}
	for enrollment in enrollments:
		_count_enrollment(of(enrollment["sequence"]), enrollment)
		if enrollment.get("exit_reason") in (REPLIED, MEETING):
			exits[enrollment["name"]] = enrollment["exit_reason"]
	last_runs: dict[str, Mapping[str, Any]] = {}
	for run in runs:
		_count_run(of(run["sequence"]), run)
		if run.get("status") == FAILED:
			continue
		last = last_runs.get(run["enrollment"])
		if last is None or int(run["step_idx"]) > int(last["step_idx"]):
			last_runs[run["enrollment"]] = run
	for enrollment, reason in exits.items():
		if run := last_runs.get(enrollment):
			_attribute(of(run["sequence"]), run, reason)
	return [performance.as_dict() for performance in sequences.values()]


def _count_enrollment(performance: SequencePerformance, enrollment: Mapping[str, Any]) -> None:
	performance.enrolled += 1
	status, reason = enrollment.get("status"), enrollment.get("exit_reason")
	if status in OPEN_STATUSES:
		performance.active += 1
	elif reason == "Finished" or status == "Finished":
		performance.finished += 1
	elif reason:
		performance.exited[reason] = performance.exited.get(reason, 0) + 1
	performance.replied += reason == REPLIED
	performance.meetings += reason == MEETING


def _count_run(performance: SequencePerformance, run: Mapping[str, Any]) -> None:
	performance.add_run(run)
	step = _step(performance, run)
	step.add_run(run)
	if step.has_variants and run.get("variant") in VARIANTS:
		step.variants.setdefault(run["variant"], Counts()).add_run(run)
	if (channel := run.get("channel_type")) and run.get("status") != FAILED:
		performance.channels.setdefault(channel, Counts()).add_run(run)


def _attribute(performance: SequencePerformance, run: Mapping[str, Any], reason: str) -> None:
	step = _step(performance, run)
	counted = [step]
	if step.has_variants and run.get("variant") in VARIANTS:
		counted.append(step.variants.setdefault(run["variant"], Counts()))
	if channel := run.get("channel_type"):
		counted.append(performance.channels.setdefault(channel, Counts()))
	for counts in counted:
		if reason == REPLIED:
			counts.replied += 1
		else:
			counts.meetings += 1


def _step(performance: SequencePerformance, run: Mapping[str, Any]) -> StepPerformance:
	"""The run's step; a step removed from the sequence since it ran keeps its own row."""
	idx = int(run["step_idx"])
	if idx not in performance.steps:
		performance.steps[idx] = StepPerformance(idx=idx, step_type=run.get("step_type") or "")
	return performance.steps[idx]


def _leader(rate_a: float | None, rate_b: float | None) -> str | None:
	if rate_a is None or rate_b is None or rate_a == rate_b:
		return None
	return "A" if rate_a > rate_b else "B"


def reply_rate_chart(performances: list[dict], with_sequence: bool) -> dict:
	"""Labels and reply rates (percent, one decimal) per step of the given sequences, for a bar chart."""
	labels, values = [], []
	for performance in performances:
		for step in performance["steps"]:
			label = f"{step['idx']}. {step['step_type']}"
			labels.append(f"{performance['sequence']} · {label}" if with_sequence else label)
			rate = step["reply_rate"]
			values.append(round(100 * rate, 1) if rate is not None else 0)
	return {"labels": labels, "values": values}
