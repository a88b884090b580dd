"""Hypothesis without its per-example deadline: speed is measured by benchmarks/, never by tests, and a
loaded 2-core machine (CI, several suites at once) must not turn a slow example into a failure."""

from hypothesis import settings

settings.register_profile("crm_extension", deadline=None)
settings.load_profile("crm_extension")
