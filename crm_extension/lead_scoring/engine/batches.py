"""How a full rescore is split into background jobs.

Each job starts in a fresh fork of its worker, which imports the scoring code and loads the rules again
before it scores anything, so fewer, larger jobs cost less; but every worker should get the same share,
or the run lasts as long as the busiest one.
"""

import math
from collections.abc import Sequence


def job_batches(names: Sequence[str], workers: int, max_size: int) -> list[list[str]]:
	"""``names`` in order, split into the fewest batches of at most ``max_size`` whose number is a multiple
	of ``workers`` (one when no worker is known), sizes differing by at most one."""
	if not names:
		return []
	workers = max(workers, 1)
	count = min(workers * math.ceil(len(names) / (workers * max_size)), len(names))
	size, larger = divmod(len(names), count)
	batches, start = [], 0
	for index in range(count):
		end = start + size + (index < larger)
		batches.append(list(names[start:end]))
		start = end
	return batches
