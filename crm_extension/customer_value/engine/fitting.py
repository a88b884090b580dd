"""Multi-start maximum likelihood on log-parameters, shared by the BG/NBD and Gamma-Gamma fits."""

from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import OptimizeResult, minimize

# exp(±15) spans 3e-7 .. 3e6, far beyond any plausible parameter and still free of overflow.
_LOG_BOUND = 15.0


def minimize_from_starts(
	objective: Callable[[np.ndarray], float], starts: Sequence[Sequence[float]]
) -> OptimizeResult:
	"""From each start L-BFGS-B, or where it fails Nelder-Mead (robust to a poor start) polished by
	L-BFGS-B; the best optimum wins."""
	results = [_minimize_from(objective, np.log(start)) for start in starts]
	return min(results, key=lambda result: result.fun)


def _minimize_from(objective: Callable[[np.ndarray], float], log_start: np.ndarray) -> OptimizeResult:
	bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(log_start)
	quick = minimize(objective, log_start, method="L-BFGS-B", bounds=bounds)
	if quick.success and np.isfinite(quick.fun):
		return quick
	options = {"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-9}
	rough = minimize(objective, log_start, method="Nelder-Mead", bounds=bounds, options=options)
	polished = minimize(objective, rough.x, method="L-BFGS-B", bounds=bounds)
	# L-BFGS-B started at an optimum stops with ABNORMAL_TERMINATION_IN_LNSRCH: only a real gain counts.
	improved = polished.fun < rough.fun - 1e-9 * (1 + abs(rough.fun))
	return polished if improved else rough
