"""Seeded simulators of the BG/NBD and Gamma-Gamma generative stories, to check the engine's formulas
against data whose true parameters are known."""

from dataclasses import dataclass

import numpy as np

from crm_extension.customer_value.engine.bgnbd import BgNbdParams
from crm_extension.customer_value.engine.gamma_gamma import GammaGammaParams


@dataclass
class SimulatedPurchases:
	x: np.ndarray
	t_x: np.ndarray
	T: np.ndarray
	alive_at_T: np.ndarray
	holdout_purchases: np.ndarray


def simulate_bgnbd(
	params: BgNbdParams, customers: int, T_range: tuple[float, float], holdout_weeks: float, seed: int
) -> SimulatedPurchases:
	"""Purchases at Poisson rate λ ~ Gamma(r, α) while alive; after each repeat purchase the customer
	drops out with probability p ~ Beta(a, b). Time 0 is the first purchase."""
	rng = np.random.default_rng(seed)
	rates = rng.gamma(params.r, 1 / params.alpha, customers)
	dropout = rng.beta(params.a, params.b, customers)
	T = rng.uniform(*T_range, customers)
	columns = [
		_simulate_one(rng, rate, p, age, holdout_weeks)
		for rate, p, age in zip(rates, dropout, T, strict=True)
	]
	x, t_x, alive, holdout = (np.array(column) for column in zip(*columns, strict=True))
	return SimulatedPurchases(x=x, t_x=t_x, T=T, alive_at_T=alive, holdout_purchases=holdout)


def _simulate_one(rng, rate: float, dropout: float, age: float, holdout_weeks: float):
	x, t_x, holdout, now = 0, 0.0, 0, 0.0
	alive_at_T = True
	while True:
		now += rng.exponential(1 / rate)
		if now > age + holdout_weeks:
			break
		if now <= age:
			x, t_x = x + 1, now
		else:
			holdout += 1
		if rng.random() < dropout:
			alive_at_T = alive_at_T and now > age
			break
	return x, t_x, alive_at_T, holdout


def simulate_gamma_gamma(params: GammaGammaParams, x: np.ndarray, seed: int) -> np.ndarray:
	"""Average of x transaction values, each Gamma(p, ν) with ν ~ Gamma(q, γ) per customer."""
	rng = np.random.default_rng(seed)
	nu = rng.gamma(params.q, 1 / params.gamma, x.size)
	return np.array([rng.gamma(params.p, 1 / rate, count).mean() for rate, count in zip(nu, x, strict=True)])
