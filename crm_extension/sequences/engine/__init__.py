"""Pure engine of Sequences: step resolution, scheduling, sending limits, exit detection, A/B statistics and
click-tracking links. Plain Python (no framework import): the adapters in ``crm_extension/sequences/`` load
the data, call these functions and write the results."""
