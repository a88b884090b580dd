"""Customer-value engine: RFM, BG/NBD, Gamma-Gamma, margin CLV, tiers and backtests.

Pure Python + numpy/scipy (no frappe, no clock reads). Entry points for the adapter:

- ``score_customers(facts_by_customer, as_of, settings)`` in ``scoring``: one call for everything.
- ``summarize_customer`` (``history``) per chunk, then ``fit_value_model`` + ``score_histories``.
- ``assign_tiers`` (``tiers``) on the resulting CLV values; ``backtest_purchases`` (``backtest``).
"""
