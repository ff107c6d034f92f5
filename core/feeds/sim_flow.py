"""Trade flow of the simulator: notional sizes, sweep clusters, bursty arrivals, aggressor mix.

Every default below is fitted to real Binance BTCUSDT spot aggregate trades (2024-08-08 23:54 to
2024-08-09 00:05, 11,349 aggTrades); docs/simulator.md lists the measured values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class TradeSizeModel:
    """Notional (USD) of one aggregated trade: two lognormals with a Pareto tail.

    The body is a mix of tiny retail/bot prints (median ~$15) and ordinary orders (median ~$900);
    any draw above ``tail_start_usd`` is replaced by a Pareto draw, so whales of $50k..$1M+ come
    at the real rate. Fitted by least squares to the log-quantiles 5%..99% and the tail
    frequencies at $10k/$25k/$50k/$100k.
    """

    small_weight: float = 0.472
    small_median_usd: float = 14.8
    small_sigma: float = 0.787
    large_median_usd: float = 898.0
    large_sigma: float = 1.889
    tail_start_usd: float = 18_600.0
    tail_alpha: float = 1.66
    max_usd: float = 5_000_000.0

    def sample(self, rng: np.random.Generator, count: int, scale: float = 1.0) -> np.ndarray:
        """``count`` notionals in USD (times ``scale``)."""
        pick = rng.random(count) < self.small_weight
        z = rng.standard_normal(count)
        log_x = np.where(pick, math.log(self.small_median_usd) + self.small_sigma * z,
                         math.log(self.large_median_usd) + self.large_sigma * z)
        x = np.exp(log_x)
        tail = x > self.tail_start_usd
        n_tail = int(tail.sum())
        if n_tail:
            x[tail] = self.tail_start_usd * rng.random(n_tail) ** (-1.0 / self.tail_alpha)
        np.minimum(x, self.max_usd, out=x)
        if scale != 1.0:
            x *= scale
        return x

    def tail_probability(self, notional_usd: float) -> float:
        """P(one trade >= ``notional_usd``) under the model (scale 1)."""
        body = self._body_survival(min(notional_usd, self.tail_start_usd))
        if notional_usd <= self.tail_start_usd:
            return body
        if notional_usd > self.max_usd:
            return 0.0
        return body * (notional_usd / self.tail_start_usd) ** -self.tail_alpha

    def mean_usd(self) -> float:
        """Expected notional of one trade (scale 1), used for candle volumes in history."""
        mean = 0.0
        for weight, median, sigma in ((self.small_weight, self.small_median_usd, self.small_sigma),
                                      (1 - self.small_weight, self.large_median_usd, self.large_sigma)):
            mu = math.log(median)
            cut = (math.log(self.tail_start_usd) - mu - sigma * sigma) / sigma
            mean += weight * math.exp(mu + sigma * sigma / 2) * _normal_cdf(cut)
        alpha, start = self.tail_alpha, self.tail_start_usd
        capped = start * alpha / (alpha - 1) * (1 - (self.max_usd / start) ** (1 - alpha))
        capped += self.max_usd * (self.max_usd / start) ** -alpha
        return mean + self._body_survival(start) * capped

    def _body_survival(self, x: float) -> float:
        lx = math.log(x)
        small = 1 - _normal_cdf((lx - math.log(self.small_median_usd)) / self.small_sigma)
        large = 1 - _normal_cdf((lx - math.log(self.large_median_usd)) / self.large_sigma)
        return self.small_weight * small + (1 - self.small_weight) * large


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


@dataclass(frozen=True, slots=True)
class ClusterModel:
    """How many aggTrades one taker order prints (a sweep through several price levels).

    Real: 85% of trade timestamps carry one aggTrade; multi-trade timestamps average 5 with a
    power-law tail (1.3% of timestamps have 10 or more).
    """

    multi_probability: float = 0.15
    tail_alpha: float = 1.1
    max_trades: int = 60

    def sample(self, uniform_pick: np.ndarray, uniform_size: np.ndarray) -> np.ndarray:
        extra = np.floor(np.maximum(uniform_size, 1e-12) ** (-1.0 / self.tail_alpha))
        sizes = 1 + np.where(uniform_pick < self.multi_probability, extra, 0.0)
        return np.minimum(sizes, self.max_trades).astype(np.int64)

    def mean(self) -> float:
        """Expected trades per cluster (numerically, over the capped power law)."""
        ks = np.arange(1, self.max_trades, dtype=float)
        survival = np.minimum(1.0, ks ** -self.tail_alpha)  # P(floor(U^-1/a) >= k)
        return 1.0 + self.multi_probability * float(survival.sum())


@dataclass(frozen=True, slots=True)
class ArrivalModel:
    """Taker-order arrivals: a steady Poisson background plus a self-exciting (Hawkes) burst part.

    With 40% of orders in the background and a burst branching ratio of 0.97 decaying in 0.3 s,
    per-second trade counts have the real shape (median ~9 vs mean 17, 99th percentile ~8x the
    mean, about half of 100 ms steps empty, almost no empty seconds).
    """

    background_share: float = 0.4
    branching: float = 0.97
    decay_s: float = 0.3

    def per_step(self, step_s: float) -> tuple[float, float]:
        """(decay factor per step, excitation added per burst order)."""
        decay = math.exp(-step_s / self.decay_s)
        return decay, self.branching * (1 - decay)


@dataclass(frozen=True, slots=True)
class AggressorModel:
    """Buy probability of a taker order: 0.5 + a slowly wandering imbalance + the price move.

    ``bias`` is an AR(1) per step (``persistence``, stationary s.d. ``bias_sd``) giving bursts of
    one-sided flow; ``price_coupling`` ties the flow to the step's latent return so buying comes
    with rising prices.
    """

    persistence: float = 0.99
    bias_sd: float = 0.2
    price_coupling: float = 0.15
    clip: float = 0.45

    def innovation_sd(self) -> float:
        return self.bias_sd * math.sqrt(1 - self.persistence ** 2)
