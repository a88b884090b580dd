"""Splitting a full rescore into jobs: every Lead once, workers evenly loaded, no job too big."""

from hypothesis import given
from hypothesis import strategies as st

from crm_extension.lead_scoring.engine.batches import batch_sizes


@given(st.integers(0, 400), st.integers(0, 12), st.integers(1, 60))
def test_batches_add_up_to_every_name_and_none_is_larger_than_the_maximum(total, workers, size):
	sizes = batch_sizes(total, workers, size)

	assert sum(sizes) == total
	assert all(0 < batch <= size for batch in sizes)


@given(st.integers(0, 400), st.integers(1, 12), st.integers(1, 60))
def test_every_worker_gets_the_same_share(total, workers, size):
	sizes = batch_sizes(total, workers, size)

	assert max(sizes, default=0) - min(sizes, default=0) <= 1
	# a multiple of the workers, unless there are too few names for that (then one job per name)
	assert len(sizes) % workers == 0 or len(sizes) == total


def test_the_fewest_jobs_that_keep_every_worker_busy():
	assert batch_sizes(100_000, 2, 25_000) == [25_000] * 4
	assert batch_sizes(100_000, 3, 25_000) == [16_667] * 4 + [16_666] * 2
	assert len(batch_sizes(100_000, 0, 25_000)) == 4  # no worker seen yet: sized by the maximum alone
	assert batch_sizes(3, 8, 25_000) == [1, 1, 1]
	assert batch_sizes(0, 2, 25_000) == []
