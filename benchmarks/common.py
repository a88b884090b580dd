"""Helpers shared by the benchmarks: timing, results files, seeding through bulk inserts."""

import json
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def median_seconds(function, repeat: int, warmup: int = 5) -> float:
	for _ in range(warmup):
		function()
	timings = []
	for _ in range(repeat):
		started = time.perf_counter()
		function()
		timings.append(time.perf_counter() - started)
	return statistics.median(timings)


def write_result(name: str, result: dict) -> dict:
	RESULTS.mkdir(exist_ok=True)
	(RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
	print(json.dumps(result, indent=2, default=str))
	return result
