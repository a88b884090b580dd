"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves"; see also
Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

Each transaction's value is Gamma(p, ν) with a customer-level ν ~ Gamma(q, γ). The model is fitted on the
customers with at least one repeat purchase, using ``m_x``: their average value per REPEAT purchase (the
first purchase is left out) over ``x`` repeat purchases. Values must be positive to enter the fit.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from crm_extension.customer_value.engine.fitting import minimize_from_starts

ArrayLike = float | np.ndarray | Iterable[float]


@dataclass(frozen=True)
class GammaGammaParams:
	p: float
	q: float
	gamma: float


@dataclass(frozen=True)
class GammaGammaFit:
	params: GammaGammaParams
	log_likelihood: float
	converged: bool
	customers: int


def log_likelihood_terms(params: GammaGammaParams, x: ArrayLike, m_x: ArrayLike) -> np.ndarray:
	"""Per-customer log density of the observed average m_x over x transactions (x ≥ 1, m_x > 0)."""
	p, q, gamma = params.p, params.q, params.gamma
	x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
	px = p * x
	return (
		gammaln(px + q)
		- gammaln(px)
		- gammaln(q)
		+ q * np.log(gamma)
		+ (px - 1) * np.log(m_x)
		+ px * np.log(x)
		- (px + q) * np.log(gamma + x * m_x)
	)


def fit_gamma_gamma(x: ArrayLike, m_x: ArrayLike) -> GammaGammaFit:
	"""Maximum-likelihood fit on the customers with x ≥ 1 and m_x > 0 (others are skipped)."""
	x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
	usable = (x >= 1) & (m_x > 0)
	x, m_x = x[usable], m_x[usable]

	def negative_ll(log_params: np.ndarray) -> float:
		value = -np.sum(log_likelihood_terms(GammaGammaParams(*np.exp(log_params)), x, m_x))
		return float(value) if np.isfinite(value) else np.inf

	typical_value = max(float(np.mean(m_x)), 1e-3) if x.size else 1.0
	best = minimize_from_starts(negative_ll, [(1.0, 1.0, 1.0), (2.0, 3.0, typical_value)])
	return GammaGammaFit(
		params=GammaGammaParams(*(float(value) for value in np.exp(best.x))),
		log_likelihood=-float(best.fun),
		converged=bool(best.success and np.isfinite(best.fun) and x.size > 0),
		customers=int(x.size),
	)


def population_mean_value(params: GammaGammaParams) -> float:
	"""E[Z] for a customer we know nothing about: pγ / (q - 1); infinite when q ≤ 1."""
	return params.p * params.gamma / (params.q - 1) if params.q > 1 else float("inf")


def conditional_expected_value(params: GammaGammaParams, x: ArrayLike, m_x: ArrayLike) -> np.ndarray:
	"""E[M | x, m_x] = (γ + x·m_x)·p / (p·x + q - 1): a weighted mean of the population mean and m_x.

	Customers without repeat purchases get the population mean; a non-positive m_x (e.g. repeat
	purchases that carried no margin) is treated as 0, which shrinks towards 0 instead of going negative.
	"""
	p, q, gamma = params.p, params.q, params.gamma
	x = np.asarray(x, dtype=float)
	m_x = np.clip(np.asarray(m_x, dtype=float), 0.0, None)
	weight_x = np.where(x > 0, x, 0.0)
	return (gamma + weight_x * m_x) * p / (p * weight_x + q - 1)
