"""Helpers shared by the benchmarks: timing and reporting."""

import json
import statistics
import time


def median_seconds(function, repeat: int, warmup: int = 5) -> float:
	for _ in range(warmup):
		function()
	timings = []
	for _ in range(repeat):
		started = time.perf_counter()
		function()
		timings.append(time.perf_counter() - started)
	return statistics.median(timings)


def report(result: dict) -> dict:
	"""`bench execute` prints the returned dict as one JSON line; benchmarks/run.sh saves it."""
	return json.loads(json.dumps(result, default=str))
