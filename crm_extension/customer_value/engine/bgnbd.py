"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

Per customer the model needs, in weeks: ``x`` the number of repeat purchases (purchase days after the
first one), ``t_x`` the time from the first to the last purchase and ``T`` the time from the first
purchase to the end of calibration. While alive a customer buys at a Poisson rate λ ~ Gamma(r, α); after
each purchase they drop out with probability p ~ Beta(a, b).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1

from crm_extension.customer_value.engine.dates import as_date, weeks_between
from crm_extension.customer_value.engine.fitting import minimize_from_starts

ArrayLike = float | np.ndarray | Iterable[float]


@dataclass(frozen=True)
class BgNbdParams:
	r: float
	alpha: float
	a: float
	b: float


@dataclass(frozen=True)
class BgNbdFit:
	params: BgNbdParams
	log_likelihood: float
	converged: bool
	customers: int


def purchase_summary(
	purchase_dates: Iterable[date], calibration_end: date
) -> tuple[int, float, float] | None:
	"""``(x, t_x, T)`` in weeks from one customer's purchase dates, counting each distinct day once.

	Dates after ``calibration_end`` are ignored; ``None`` when no purchase falls on or before it."""
	calibration_end = as_date(calibration_end)
	days = sorted({day for day in map(as_date, purchase_dates) if day <= calibration_end})
	if not days:
		return None
	first, last = days[0], days[-1]
	return len(days) - 1, weeks_between(first, last), weeks_between(first, calibration_end)


def log_likelihood_terms(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
	"""Per-customer log-likelihood of the paper, computed in log space (log-sum-exp of its two terms)."""
	r, alpha, a, b = params.r, params.alpha, params.a, params.b
	x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
	shared = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
	log_still_alive = -(r + x) * np.log(alpha + T)
	repeat = x > 0
	# B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1); the dropout branch only exists after a repeat purchase.
	safe_denominator = np.where(repeat, b + x - 1, 1.0)
	log_dropped = np.log(a) - np.log(safe_denominator) - (r + x) * np.log(alpha + t_x)
	log_dropped = np.where(repeat, log_dropped, -np.inf)
	return shared + np.logaddexp(log_still_alive, log_dropped)


def log_likelihood(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> float:
	return float(np.sum(log_likelihood_terms(params, x, t_x, T)))


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdFit:
	"""Maximum-likelihood fit on log-parameters from several starts (best optimum wins)."""
	summary = np.column_stack([np.asarray(v, dtype=float).ravel() for v in (x, t_x, T)])
	if not len(summary):
		raise ValueError("fit_bgnbd needs at least one customer")
	rows, counts = np.unique(summary, axis=0, return_counts=True)

	def negative_ll(log_params: np.ndarray) -> float:
		params = BgNbdParams(*np.exp(log_params))
		value = -np.dot(counts, log_likelihood_terms(params, rows[:, 0], rows[:, 1], rows[:, 2]))
		return float(value) if np.isfinite(value) else np.inf

	best = minimize_from_starts(negative_ll, _starting_points(rows, counts))
	return BgNbdFit(
		params=BgNbdParams(*(float(value) for value in np.exp(best.x))),
		log_likelihood=-float(best.fun),
		converged=bool(best.success and np.isfinite(best.fun)),
		customers=int(counts.sum()),
	)


def probability_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
	"""P(alive | x, t_x, T); 1 for customers without repeat purchases (no chance to drop out yet)."""
	x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
	return expit(-_log_dropout_odds(params, x, t_x, T))


def conditional_expected_purchases(
	params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
	"""E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (paper eq. 10).

	Uses Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z), which folds the
	((α+T)/(α+T+t))^(r+x) factor in and keeps the hypergeometric parameters from growing with x."""
	r, alpha, b = params.r, params.alpha, params.b
	# a = 1 is a removable singularity (0/0); a nudge of 1e-7 changes the result far less than that.
	a = params.a if abs(params.a - 1) > 1e-7 else 1 + 1e-7
	t, x, t_x, T = (np.asarray(v, dtype=float) for v in (t, x, t_x, T))
	z = t / (alpha + T + t)
	with np.errstate(invalid="ignore", over="ignore"):
		folded = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
		expected_if_alive = (a + b + x - 1) / (a - 1) * (1 - folded)
	if not np.all(np.isfinite(expected_if_alive)):
		limit = _expected_if_alive_with_concentrated_dropout(params, t, x, T)
		expected_if_alive = np.where(np.isfinite(expected_if_alive), expected_if_alive, limit)
	return expected_if_alive * expit(-_log_dropout_odds(params, x, t_x, T))


def _expected_if_alive_with_concentrated_dropout(
	params: BgNbdParams, t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
	"""E[Y(t) | alive] in the limit a, b → ∞ (used only where eq. 10 overflows, from about a + b = 10^4).

	The dropout probability is then fixed at its posterior mean p = a / (a + b + x), and with
	λ ~ Gamma(r + x, α + T): E[Y(t) | alive] = (1 - ((α + T) / (α + T + p·t))^(r + x)) / p. Fits whose
	dropout barely varies between customers end there (a and b grow without bound)."""
	r, alpha, a, b = params.r, params.alpha, params.a, params.b
	p = a / (a + b + x)
	return (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p


def expected_purchases_new_customer(params: BgNbdParams, t: ArrayLike) -> np.ndarray:
	"""E[X(t)]: expected purchases of a customer in their first t weeks after the first one.

	The paper's E[X(t)]; equal to eq. 10 with x = t_x = T = 0, which is how it is computed."""
	zero = np.zeros_like(np.asarray(t, dtype=float))
	return conditional_expected_purchases(params, t, zero, zero, zero)


def _log_dropout_odds(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
	"""log of a/(b+x-1) · ((α+T)/(α+t_x))^(r+x), i.e. log P(dropped out)/P(alive); -inf when x = 0."""
	r, alpha, a, b = params.r, params.alpha, params.a, params.b
	repeat = x > 0
	safe_denominator = np.where(repeat, b + x - 1, 1.0)
	log_odds = np.log(a) - np.log(safe_denominator) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
	return np.where(repeat, log_odds, -np.inf)


def _starting_points(rows: np.ndarray, counts: np.ndarray) -> list[tuple[float, ...]]:
	mean_x = max(np.average(rows[:, 0], weights=counts), 0.1)
	mean_T = max(np.average(rows[:, 2], weights=counts), 1.0)
	rate_scale = mean_T / mean_x
	return [(1.0, 1.0, 1.0, 1.0), (0.5, rate_scale, 1.0, 3.0), (2.0, 2 * rate_scale, 0.5, 1.0)]
