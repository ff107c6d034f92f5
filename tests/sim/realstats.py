"""Statistics of the real Binance BTCUSDT recording the simulator is calibrated against.

Read from the shared data (never copied into the project): 11,349 derived spot aggTrades and 649
derived 1 s klines, 2024-08-08 23:54 to 2024-08-09 00:05 UTC (see the data README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tests.paths import BINANCE_DATA

AGGTRADES = BINANCE_DATA / "aggtrades" / "derived_aggtrades_BTCUSDT_20240808T2354-20240809T0005.csv"
KLINES_1S = BINANCE_DATA / "klines" / "derived_spot_BTCUSDT_1s_20240808T2354-20240809T0005.csv"
RECORDING_START_MS = 1_723_161_240_000  # 2024-08-08 23:54:00 UTC, a Thursday: the simulator starts here too


@dataclass(frozen=True)
class TradeStats:
    notional_usd: np.ndarray
    buy: np.ndarray  # aggressor is the buyer
    span_s: float

    @property
    def rate_per_s(self) -> float:
        return len(self.notional_usd) / self.span_s

    def rate_per_hour_at_least(self, notional_usd: float) -> float:
        return float((self.notional_usd >= notional_usd).sum()) / self.span_s * 3600

    def count_at_least(self, notional_usd: float) -> int:
        return int((self.notional_usd >= notional_usd).sum())

    def quantiles(self, probabilities: tuple[float, ...]) -> np.ndarray:
        return np.quantile(self.notional_usd, probabilities)

    @property
    def buy_share(self) -> float:
        return float(self.buy.mean())


def real_trades() -> TradeStats:
    rows = np.genfromtxt(AGGTRADES, delimiter=",", skip_header=1, usecols=(2, 3, 4), dtype=np.float64)
    with AGGTRADES.open() as f:
        next(f)
        maker = np.array([line.rstrip().split(",")[5] == "true" for line in f])
    price, qty, ts = rows.T
    return TradeStats(price * qty, ~maker, (ts.max() - ts.min()) / 1000.0)


def real_one_second_vol() -> float:
    closes = np.genfromtxt(KLINES_1S, delimiter=",", skip_header=1, usecols=(4,))
    return float(np.diff(np.log(closes)).std())


def one_second_vol(closes: list[float]) -> float:
    return float(np.diff(np.log(np.asarray(closes))).std())


def poisson_upper_95(count: int) -> float:
    """One-sided 95% upper bound on a Poisson mean after observing ``count`` events."""
    low, high = float(count), float(count) + 10 * math.sqrt(count + 1) + 10
    for _ in range(100):
        mid = (low + high) / 2
        cdf = sum(math.exp(-mid + k * math.log(mid) - math.lgamma(k + 1)) for k in range(count + 1))
        low, high = (mid, high) if cdf > 0.05 else (low, mid)
    return high


def hill_alpha(sizes: np.ndarray, threshold: float) -> float:
    """Maximum-likelihood Pareto exponent of the sizes above ``threshold``."""
    tail = sizes[sizes >= threshold]
    return float(len(tail) / np.log(tail / threshold).sum())
