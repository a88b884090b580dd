"""How a full rescore is split into background jobs.

Each job starts in a fresh fork of its worker, which imports the scoring code and loads the rules again
before it scores anything, so fewer, larger jobs cost less; but every worker should get the same share,
or the run lasts as long as the busiest one.
"""

import math


def batch_sizes(total: int, workers: int, max_size: int) -> list[int]:
	"""Sizes of the fewest batches of at most ``max_size`` that ``total`` names split into, in a number that is
	a multiple of ``workers`` (one when no worker is known), differing by at most one."""
	if total <= 0:
		return []
	workers = max(workers, 1)
	count = min(workers * math.ceil(total / (workers * max_size)), total)
	size, larger = divmod(total, count)
	return [size + (index < larger) for index in range(count)]
