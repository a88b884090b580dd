"""Customer-value engine: RFM, BG/NBD, Gamma-Gamma, margin CLV, tiers and backtests.

Pure Python + numpy/scipy (no frappe, no clock reads). Entry points for the adapter:

- ``score_customers(facts_by_customer, as_of, settings)`` in ``scoring``: one call for everything.
- ``summarize_customer`` (``history``) per chunk into a ``FitSample``, then ``fit_sampled_model``, the
  population's RFM cuts (``rfm.quintile_cuts``) and ``score_histories`` per chunk.
- ``assign_tiers`` (``tiers``) on the resulting CLV values, or ``tier_cuts`` + ``tier_of`` per chunk;
  ``backtest_purchases`` (``backtest``).
"""
