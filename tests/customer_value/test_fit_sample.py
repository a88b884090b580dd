import numpy as np
import pytest

from crm_extension.customer_value.engine.bgnbd import BgNbdParams, fit_bgnbd
from crm_extension.customer_value.engine.fit_sample import FitSample
from crm_extension.customer_value.engine.history import RepeatSummary

from .simulate import simulate_bgnbd


def summaries(x, t_x, T, m_x=None):
	m_x = np.ones_like(x) if m_x is None else m_x
	return [
		RepeatSummary(int(a), float(b), float(c), float(d)) for a, b, c, d in zip(x, t_x, T, m_x, strict=True)
	]


def test_up_to_its_capacity_the_sample_is_the_whole_population_in_order():
	sample = FitSample(capacity=10)
	population = summaries([0, 1, 2], [0.0, 1.5, 3.0], [5.0, 6.0, 7.0], [0.0, 2.0, -1.0])
	for summary in [*population, None]:
		sample.add(summary)
	x, t_x, T, m_x = sample.arrays()
	assert x.tolist() == [0, 1, 2] and t_x.tolist() == [0.0, 1.5, 3.0]
	assert T.tolist() == [5.0, 6.0, 7.0] and m_x.tolist() == [0.0, 2.0, -1.0]
	assert (sample.purchasers, sample.repeat_customers, sample.margin_repeat_customers) == (3, 2, 1)


def test_beyond_its_capacity_the_sample_stays_that_size_but_counts_every_purchaser():
	sample = FitSample(capacity=100, seed=3)
	for summary in summaries(np.arange(5000) % 4, np.zeros(5000), np.full(5000, 10.0)):
		sample.add(summary)
	assert sample.size == 100 and len(sample.arrays()[0]) == 100
	assert sample.purchasers == 5000 and sample.repeat_customers == 3750


def test_every_purchaser_is_equally_likely_to_be_sampled():
	kept = np.zeros(1000)
	for seed in range(300):
		sample = FitSample(capacity=50, seed=seed)
		for summary in summaries(np.arange(1000), np.zeros(1000), np.ones(1000)):
			sample.add(summary)
		kept[sample.arrays()[0].astype(int)] += 1
	# Each of 1,000 purchasers is kept with probability 0.05: 15 times in 300 runs on average.
	first_half, second_half = kept[:500].mean(), kept[500:].mean()
	assert first_half == pytest.approx(15, rel=0.05) and second_half == pytest.approx(15, rel=0.05)


def test_a_model_fitted_on_a_sample_of_a_large_population_recovers_its_parameters():
	truth = BgNbdParams(r=0.5, alpha=4.0, a=0.8, b=2.5)
	simulated = simulate_bgnbd(truth, 20000, (20, 60), 0, seed=11)
	sample = FitSample(capacity=5000, seed=1)
	for summary in summaries(simulated.x, simulated.t_x, simulated.T):
		sample.add(summary)
	fitted = fit_bgnbd(*sample.arrays()[:3]).params
	full = fit_bgnbd(simulated.x, simulated.t_x, simulated.T).params
	for name in ("r", "alpha", "a", "b"):
		assert getattr(fitted, name) == pytest.approx(getattr(full, name), rel=0.25)
