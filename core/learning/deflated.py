"""The deflated Sharpe ratio (Bailey and López de Prado, 2014): how likely a selected Sharpe is real after N trials.

    SR0 = sqrt(var of the trials' Sharpe ratios) x ((1 - g) x Z(1 - 1/N) + g x Z(1 - 1/(N e)))
    DSR = Phi((SR - SR0) x sqrt(T - 1) / sqrt(1 - skew x SR + (kurtosis - 1) / 4 x SR^2))

with g the Euler-Mascheroni constant, Z the standard normal quantile, Phi its CDF, T the number of
returns behind SR, and skew/kurtosis (not excess) of those returns. Sharpe ratios are per trade (not
annualised). 0.95 or more is the usual bar; one trial reduces it to the probabilistic Sharpe ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


def expected_max_sharpe(trial_sharpes: Sequence[float]) -> float:
    """SR0: the Sharpe the best of N unskilled trials would show by luck."""
    n = len(trial_sharpes)
    if n < 2:
        return 0.0
    spread = float(np.std(np.asarray(trial_sharpes, dtype=np.float64), ddof=1))
    return spread * ((1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n)
                     + EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (n * math.e)))


def deflated_sharpe(returns: Sequence[float], trial_sharpes: Sequence[float]) -> float | None:
    """Probability that the Sharpe of ``returns`` beats luck across ``trial_sharpes``; None when undefined."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 3:
        return None
    spread = float(np.std(r, ddof=1))
    if not spread > 0:
        return None
    sharpe = float(np.mean(r)) / spread
    deviation = r - r.mean()
    m2 = float(np.mean(deviation ** 2))
    skew = float(np.mean(deviation ** 3)) / m2 ** 1.5  # population moments, as scipy.stats.skew/kurtosis
    kurtosis = float(np.mean(deviation ** 4)) / m2 ** 2
    denominator = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe * sharpe
    if not denominator > 0:
        return None
    z = (sharpe - expected_max_sharpe(trial_sharpes)) * math.sqrt(r.size - 1) / math.sqrt(denominator)
    return _NORMAL.cdf(z)
