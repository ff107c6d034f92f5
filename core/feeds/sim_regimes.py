"""Market regimes of the simulator (calm ranges, trends, volatile spells) and their timeline.

A regime lasts an exponentially distributed time, then jumps to another by a fixed transition
table. Calm markets mean-revert around the price where the calm began (ranges, repeated tests of
the same levels); trending markets drift one way; volatile markets move and trade more.
Volatility multipliers are normalised so the long-run variance equals the symbol's annual vol.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Regime(IntEnum):
    CALM = 0
    TRENDING = 1
    VOLATILE = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class RegimeModel:
    """Raw multipliers, mean durations and the jump table (rows: from, columns: to)."""

    vol: tuple[float, float, float] = (0.5, 1.0, 1.9)
    rate: tuple[float, float, float] = (0.7, 1.0, 1.8)
    spread: tuple[float, float, float] = (1.0, 1.0, 2.0)
    mean_hours: tuple[float, float, float] = (10.0, 8.0, 3.0)
    jumps: tuple[tuple[float, float, float], ...] = ((0.0, 0.7, 0.3), (0.6, 0.0, 0.4), (0.5, 0.5, 0.0))
    trend_drift_sigmas_per_hour: float = 0.2  # drift per hour in units of the hourly volatility
    range_half_life_hours: float = 4.0  # mean reversion towards the calm anchor

    def time_shares(self) -> np.ndarray:
        """Long-run share of time spent in each regime."""
        table = np.array(self.jumps, dtype=float)
        visits = np.full(3, 1 / 3)
        for _ in range(200):
            visits = visits @ table
        shares = visits * np.array(self.mean_hours)
        return shares / shares.sum()

    def vol_multipliers(self) -> tuple[float, float, float]:
        """``vol`` scaled so the time-weighted mean of squares is 1."""
        raw = np.array(self.vol)
        norm = math.sqrt(float(self.time_shares() @ raw ** 2))
        return tuple(float(v) for v in raw / norm)  # type: ignore[return-value]

    def next_regime(self, current: int, uniform: float) -> int:
        row = self.jumps[current]
        total = 0.0
        for index, p in enumerate(row):
            total += p
            if uniform < total:
                return index
        return max(range(3), key=lambda i: row[i])

    def duration_ms(self, regime: int, exponential: float) -> int:
        return max(60_000, int(exponential * self.mean_hours[regime] * 3_600_000))


@dataclass(frozen=True, slots=True)
class RegimeTimeline:
    """Consecutive regime segments; the last one runs past ``end_ms``."""

    start_ms: np.ndarray  # int64, first segment starts at the history start
    regime: np.ndarray  # int8
    trend_sign: np.ndarray  # +1 / -1 (used by trending segments)

    def index_at(self, ts_ms: np.ndarray | int) -> np.ndarray:
        return np.searchsorted(self.start_ms, ts_ms, side="right") - 1

    def segment_end_ms(self, index: int) -> int:
        if index + 1 < len(self.start_ms):
            return int(self.start_ms[index + 1])
        return int(self.start_ms[index]) + 3_600_000  # open-ended last segment (not reached)


def build_timeline(model: RegimeModel, rng: np.random.Generator, start_ms: int, end_ms: int) -> RegimeTimeline:
    """Segments from ``start_ms`` until one ends after ``end_ms`` (a small state machine)."""
    starts: list[int] = []
    regimes: list[int] = []
    signs: list[int] = []
    regime = int(rng.integers(0, 3))
    t = start_ms
    while True:
        batch_exp = rng.exponential(size=64).tolist()
        batch_uni = rng.random(size=128).tolist()
        for i in range(64):
            starts.append(t)
            regimes.append(regime)
            signs.append(1 if batch_uni[2 * i + 1] < 0.5 else -1)
            t += model.duration_ms(regime, batch_exp[i])
            if t > end_ms:
                return RegimeTimeline(np.array(starts, dtype=np.int64), np.array(regimes, dtype=np.int8),
                                      np.array(signs, dtype=np.int8))
            regime = model.next_regime(regime, batch_uni[2 * i])


def slow_vol_path(rng: np.random.Generator, hours: int, half_life_h: float, sd: float) -> np.ndarray:
    """Hourly log-volatility offsets: a stationary AR(1) computed as a truncated convolution."""
    a = 0.5 ** (1.0 / half_life_h)
    kernel_len = int(math.log(1e-12) / math.log(a)) + 1
    shocks = rng.standard_normal(hours + kernel_len) * sd * math.sqrt(1 - a * a)
    kernel = a ** np.arange(kernel_len)
    return np.convolve(shocks, kernel)[kernel_len: kernel_len + hours]
