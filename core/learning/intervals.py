"""Intervals and significance: Wilson for rates, a seeded bootstrap for means, t-tests, Benjamini-Hochberg.

- Wilson: ``core.stats.win_rate_interval_pct`` at the z of the confidence level.
- Bootstrap: percentile interval of the mean over ``resamples`` resamples drawn with numpy's PCG64
  from ``seed``: the same values and seed always give the same interval.
- p-values: two-sided one-sample t-test of a mean against 0, Welch's t-test of two means.
  A sample without spread has p 0 when its mean is not 0 (and 1 when it is).
- Benjamini-Hochberg: step-up at false-discovery rate ``q`` over the m p-values given; the
  adjusted p-values are monotone and capped at 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from core.stats import win_rate_interval_pct

_CHUNK = 256  # resamples drawn at once (bounds the memory of large samples)


def z_of(level: float) -> float:
    """Two-sided normal quantile of a confidence level (1.96 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def wilson_interval(successes: int, count: int, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of ``successes / count`` as fractions; None without observations."""
    found = win_rate_interval_pct(successes, count, z=z_of(level))
    return None if found is None else (found[0] / 100.0, found[1] / 100.0)


def bootstrap_mean_interval(values: Sequence[float] | np.ndarray, *, level: float = 0.95, resamples: int = 2000,
                            seed: int = 13) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean (deterministic for a seed); None without values."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n == 0:
        return None
    if n == 1 or np.all(x == x[0]):
        return float(x[0]), float(x[0])
    rng = np.random.Generator(np.random.PCG64(seed))
    means = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):
        stop = min(resamples, start + _CHUNK)
        means[start:stop] = x[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def bootstrap_difference_interval(a: Sequence[float], b: Sequence[float], *, level: float = 0.95,
                                  resamples: int = 2000, seed: int = 13) -> tuple[float, float] | None:
    """Percentile bootstrap interval of mean(a) - mean(b), each resampled on its own."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        return None
    rng = np.random.Generator(np.random.PCG64(seed))
    diffs = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):
        stop = min(resamples, start + _CHUNK)
        size = stop - start
        diffs[start:stop] = (x[rng.integers(0, x.size, size=(size, x.size))].mean(axis=1)
                             - y[rng.integers(0, y.size, size=(size, y.size))].mean(axis=1))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(diffs, [tail, 1.0 - tail])
    return float(low), float(high)


def mean_p_value(values: Sequence[float] | np.ndarray) -> float | None:
    """Two-sided p-value that the mean is 0 (one-sample t-test); None with fewer than 2 values."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return None
    if float(np.std(x)) == 0.0:
        return 1.0 if float(x[0]) == 0.0 else 0.0
    from scipy import stats  # imported on first use: scipy.stats takes seconds to import

    return float(stats.ttest_1samp(x, 0.0).pvalue)


def difference_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided p-value that two means are equal (Welch); None with fewer than 2 values on a side."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size < 2 or y.size < 2:
        return None
    if float(np.std(x)) == 0.0 and float(np.std(y)) == 0.0:
        return 1.0 if float(x[0]) == float(y[0]) else 0.0
    from scipy import stats

    return float(stats.ttest_ind(x, y, equal_var=False).pvalue)


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.10) -> tuple[tuple[bool, ...], tuple[float, ...]]:
    """(discoveries, adjusted p-values) for the p-values given, in their order."""
    m = len(p_values)
    if m == 0:
        return (), ()
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):  # from the largest p down, keeping the adjusted values monotone
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    cutoff = max((rank for rank in range(1, m + 1) if p_values[order[rank - 1]] <= rank / m * q), default=0)
    discovered = [False] * m
    for rank in range(1, cutoff + 1):
        discovered[order[rank - 1]] = True
    return tuple(discovered), tuple(adjusted)


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
