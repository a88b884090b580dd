"""Splitting a full rescore into jobs: every Lead once, in order, workers evenly loaded, no job too big."""

from hypothesis import given
from hypothesis import strategies as st

from crm_extension.lead_scoring.engine.batches import job_batches

names = st.integers(0, 400).map(lambda n: [f"L{i:04d}" for i in range(n)])


@given(names, st.integers(0, 12), st.integers(1, 60))
def test_batches_cover_every_name_once_in_order_and_none_is_larger_than_the_maximum(names, workers, size):
	batches = job_batches(names, workers, size)

	assert [name for batch in batches for name in batch] == names
	assert all(0 < len(batch) <= size for batch in batches)


@given(names, st.integers(1, 12), st.integers(1, 60))
def test_every_worker_gets_the_same_share(names, workers, size):
	batches = job_batches(names, workers, size)

	assert max(map(len, batches), default=0) - min(map(len, batches), default=0) <= 1
	# a multiple of the workers, unless there are too few names for that (then one job per name)
	assert len(batches) % workers == 0 or len(batches) == len(names)


def test_the_fewest_jobs_that_keep_every_worker_busy():
	leads = [f"L{i}" for i in range(100_000)]

	assert [len(batch) for batch in job_batches(leads, 2, 25_000)] == [25_000] * 4
	assert [len(batch) for batch in job_batches(leads, 3, 25_000)] == [16_667] * 4 + [16_666] * 2
	assert len(job_batches(leads, 0, 25_000)) == 4  # no worker seen yet: sized by the maximum alone
	assert job_batches(leads[:3], 8, 25_000) == [["L0"], ["L1"], ["L2"]]
	assert job_batches([], 2, 25_000) == []
