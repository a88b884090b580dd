"""A bounded, uniform sample of purchasers' repeat summaries, for fitting the value model.

The BG/NBD and Gamma-Gamma fits need each purchaser's ``(x, t_x, T, m_x)``. A recompute that reads
customers a chunk at a time keeps at most ``capacity`` of them (reservoir sampling, Vitter's algorithm R,
seeded so that a recompute is reproducible), so its memory does not grow with the customer base. Up to
``capacity`` purchasers the sample is the whole population and the fit is exact; beyond it the estimates
carry a sampling error of order 1/sqrt(capacity). The counts that decide whether a model can be fitted at
all are kept for the whole population, not the sample.
"""

import random

import numpy as np

from crm_extension.customer_value.engine.history import RepeatSummary

FIT_SAMPLE_SIZE = 20_000


class FitSample:
	def __init__(self, capacity: int = FIT_SAMPLE_SIZE, seed: int = 0):
		if capacity < 1:
			raise ValueError("A fit sample needs room for at least one customer")
		self.capacity = capacity
		self.purchasers = 0  # customers with a purchase, sampled or not
		self.repeat_customers = 0  # ... with x > 0
		self.margin_repeat_customers = 0  # ... with x > 0 and m_x > 0
		self._rows = np.empty((min(capacity, 1024), 4))
		self._random = random.Random(seed)

	def add(self, summary: RepeatSummary | None):
		if summary is None:
			return
		row = (summary.frequency, summary.recency_weeks, summary.age_weeks, summary.repeat_margin_mean)
		self.repeat_customers += summary.frequency > 0
		self.margin_repeat_customers += summary.frequency > 0 and summary.repeat_margin_mean > 0
		if self.purchasers < self.capacity:
			self._grow_to(self.purchasers + 1)
			self._rows[self.purchasers] = row
		elif (slot := self._random.randrange(self.purchasers + 1)) < self.capacity:
			self._rows[slot] = row
		self.purchasers += 1

	@property
	def size(self) -> int:
		return min(self.purchasers, self.capacity)

	def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
		"""``x, t_x, T, m_x`` of the sampled purchasers."""
		rows = self._rows[: self.size]
		return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]

	def _grow_to(self, rows: int):
		if rows > len(self._rows):
			grown = np.empty((min(self.capacity, 2 * len(self._rows)), 4))
			grown[: len(self._rows)] = self._rows
			self._rows = grown
