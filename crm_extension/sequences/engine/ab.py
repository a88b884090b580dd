"""A/B variants of an email step: an even, stable split and the statistics the report shows.

The split hashes the enrollment name (SHA-256, not Python's per-process ``hash``), so every worker and every
retry picks the same variant. Reply rates get a Wilson score interval (sensible at 0 % and 100 % and for
small samples) and the arms are compared with a pooled two-proportion z-test; the normal tail comes from
``math.erfc``, which is exact enough here and keeps scipy out of the engine.
"""

import hashlib
import math

VARIANTS = ("A", "B")
SIGNIFICANCE = 0.05
Z_95 = 1.96

__all__ = ["VARIANTS", "choose_variant", "compare", "two_proportion_p_value", "wilson_interval"]


def choose_variant(enrollment_name: str) -> str:
	""" "A" or "B", half of the names each, always the same for the same name."""
	digest = hashlib.sha256(str(enrollment_name).encode("utf-8")).digest()
	return VARIANTS[digest[0] & 1]


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
	"""Wilson score interval of a proportion; (0.0, 1.0) with no trials (nothing is known yet)."""
	_check_counts(successes, trials)
	if trials == 0:
		return (0.0, 1.0)
	rate = successes / trials
	z2 = z * z
	centre = (rate + z2 / (2 * trials)) / (1 + z2 / trials)
	spread = z / (1 + z2 / trials) * math.sqrt(rate * (1 - rate) / trials + z2 / (4 * trials * trials))
	# At 0 (or all) successes the exact bound is 0 (or 1); floating point would miss it by 1e-17.
	low = 0.0 if successes == 0 else max(0.0, centre - spread)
	high = 1.0 if successes == trials else min(1.0, centre + spread)
	return (low, high)


def two_proportion_p_value(a_success: int, a_trials: int, b_success: int, b_trials: int) -> float | None:
	"""Two-sided p-value of a pooled two-proportion z-test; None when an arm has no trials, 1.0 when both
	arms are all-success or all-failure (no variance, no evidence of a difference)."""
	_check_counts(a_success, a_trials)
	_check_counts(b_success, b_trials)
	if not a_trials or not b_trials:
		return None
	pooled = (a_success + b_success) / (a_trials + b_trials)
	variance = pooled * (1 - pooled) * (1 / a_trials + 1 / b_trials)
	if variance <= 0:
		return 1.0
	z = (a_success / a_trials - b_success / b_trials) / math.sqrt(variance)
	return math.erfc(abs(z) / math.sqrt(2))


def compare(a_success: int, a_trials: int, b_success: int, b_trials: int) -> dict:
	"""Both variants' reply rates with 95 % intervals and whether the difference is significant (p < 0.05
	with at least one trial in each arm). An arm with no trials has rate and interval None. ``winner`` is
	the variant with the higher rate when the difference is significant, else None ("not yet significant")."""
	p_value = two_proportion_p_value(a_success, a_trials, b_success, b_trials)
	significant = p_value is not None and p_value < SIGNIFICANCE
	rate_a, rate_b = _rate(a_success, a_trials), _rate(b_success, b_trials)
	return {
		"rate_a": rate_a,
		"rate_b": rate_b,
		"ci_a": wilson_interval(a_success, a_trials) if a_trials else None,
		"ci_b": wilson_interval(b_success, b_trials) if b_trials else None,
		"p_value": p_value,
		"significant": significant,
		"winner": ("A" if rate_a > rate_b else "B") if significant else None,
	}


def _rate(successes: int, trials: int) -> float | None:
	return successes / trials if trials else None


def _check_counts(successes: int, trials: int) -> None:
	if trials < 0 or successes < 0 or successes > trials:
		raise ValueError(f"Invalid counts: {successes} successes in {trials} trials")
