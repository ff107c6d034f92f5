"""Strategy metrics in R with honest intervals (docs/learning.md has the definitions).

Over ``TradeResult``s taken in close order (close time, open time, key):
- counts per outcome; win rate = wins / all results, with its Wilson interval.
- profit factor = sum of positive R / |sum of negative R| (None without a losing R).
- expectancy = mean R (the average R), with a seeded bootstrap interval; average win R and loss R.
- Sharpe and Sortino per trade (mean R over the sample standard deviation / over the downside
  deviation sqrt(mean(min(R, 0)^2))), and per day over the calendar days from the first to the last
  close (days without a close count as 0 R); the annualised daily figures multiply by sqrt(365).
- max drawdown of the cumulative R curve (trades closed in the same millisecond are one step).
- ``meaningful`` is False below ``learning.min_sample_size`` results: the numbers are shown, with
  their intervals, but nobody should act on them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import numpy as np

from core.learning.intervals import bootstrap_mean_interval, wilson_interval
from core.learning.outcomes import Outcome, TradeResult
from core.stats import max_drawdown
from core.tunables import Tunable, params_from_values

DAY_MS = 86_400_000
TRADING_DAYS_PER_YEAR = 365  # crypto trades every day

TUNABLES: tuple[Tunable, ...] = (
    Tunable("learning.min_sample_size", int, 20, "results a slice needs before its statistics count as "
            "meaningful", 2, 10_000),
    Tunable("learning.confidence_level", float, 0.95, "confidence level of every interval", 0.5, 0.999),
    Tunable("learning.bootstrap_resamples", int, 2000, "bootstrap resamples of each expectancy interval",
            100, 100_000),
    Tunable("learning.fdr", float, 0.10, "false-discovery rate when many slices are compared "
            "(Benjamini-Hochberg)", 0.001, 0.5),
    Tunable("learning.breakeven_r", float, 0.05, "a result within this many R of zero is a breakeven",
            0, 1, unit="R"),
)


@dataclass(frozen=True, slots=True)
class LearningParams:
    """The ``learning.*`` tunables; defaults equal the tunable defaults."""

    min_sample_size: int = 20
    confidence_level: float = 0.95
    bootstrap_resamples: int = 2000
    fdr: float = 0.10
    breakeven_r: float = 0.05
    seed: int = 13  # bootstrap seed: fixed, so a report is reproducible

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> LearningParams:
        return params_from_values(cls, "learning", values)


@dataclass(frozen=True, slots=True)
class Rate:
    """``hits`` out of ``count`` with its Wilson interval (fractions; None without observations)."""

    hits: int
    count: int
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean with its bootstrap interval."""

    value: float
    low: float
    high: float
    count: int


@dataclass(frozen=True, slots=True)
class StrategyMetrics:
    label: str
    count: int
    wins: int
    losses: int
    breakevens: int
    expired: int
    win_rate: Rate
    profit_factor: float | None
    expectancy_r: Estimate | None  # the average R, with its interval
    average_win_r: float | None
    average_loss_r: float | None
    total_r: float
    sharpe_trade: float | None
    sortino_trade: float | None
    sharpe_daily: float | None  # per day, not annualised
    sortino_daily: float | None
    days: int  # calendar days the daily figures cover
    max_drawdown_r: float
    meaningful: bool
    min_sample_size: int

    @property
    def sharpe_annual(self) -> float | None:
        return None if self.sharpe_daily is None else self.sharpe_daily * math.sqrt(TRADING_DAYS_PER_YEAR)

    @property
    def sortino_annual(self) -> float | None:
        return None if self.sortino_daily is None else self.sortino_daily * math.sqrt(TRADING_DAYS_PER_YEAR)


def rate(hits: int, count: int, level: float = 0.95) -> Rate:
    interval = wilson_interval(hits, count, level)
    return Rate(hits, count, hits / count if count else None, *(interval or (None, None)))


def in_close_order(results: Sequence[TradeResult]) -> list[TradeResult]:
    return sorted(results, key=lambda t: (t.close_ts_ms, t.open_ts_ms, t.key))


def strategy_metrics(results: Sequence[TradeResult], params: LearningParams = LearningParams(), *,
                     label: str = "all") -> StrategyMetrics:
    """Every metric of ``results`` (any order; see the module docstring)."""
    ordered = in_close_order(results)
    r = np.fromiter((t.r for t in ordered), dtype=np.float64, count=len(ordered))
    counts = {outcome: sum(1 for t in ordered if t.outcome is outcome) for outcome in Outcome}
    wins, losses = r[r > 0], r[r < 0]
    daily = daily_r(ordered)
    return StrategyMetrics(
        label=label, count=len(ordered), wins=counts[Outcome.WIN], losses=counts[Outcome.LOSS],
        breakevens=counts[Outcome.BREAKEVEN], expired=counts[Outcome.EXPIRED],
        win_rate=rate(counts[Outcome.WIN], len(ordered), params.confidence_level),
        profit_factor=float(wins.sum() / -losses.sum()) if losses.size else None,
        expectancy_r=expectancy(r, params),
        average_win_r=_mean([t.r for t in ordered if t.outcome is Outcome.WIN]),
        average_loss_r=_mean([t.r for t in ordered if t.outcome is Outcome.LOSS]),
        total_r=math.fsum(r.tolist()),
        sharpe_trade=sharpe(r), sortino_trade=sortino(r),
        sharpe_daily=sharpe(daily), sortino_daily=sortino(daily), days=int(daily.size),
        max_drawdown_r=max_drawdown(r_curve(ordered)).amount,
        meaningful=len(ordered) >= params.min_sample_size, min_sample_size=params.min_sample_size)


def expectancy(r: np.ndarray, params: LearningParams = LearningParams()) -> Estimate | None:
    if r.size == 0:
        return None
    interval = bootstrap_mean_interval(r, level=params.confidence_level, resamples=params.bootstrap_resamples,
                                       seed=params.seed)
    assert interval is not None
    return Estimate(math.fsum(r.tolist()) / r.size, interval[0], interval[1], int(r.size))


def sharpe(values: np.ndarray) -> float | None:
    """Mean over the sample standard deviation; None with fewer than 2 values or no spread."""
    if values.size < 2:
        return None
    spread = float(np.std(values, ddof=1))
    return float(np.mean(values)) / spread if spread > _noise(values) else None


def sortino(values: np.ndarray) -> float | None:
    """Mean over the downside deviation (target 0); None with fewer than 2 values or no downside."""
    if values.size < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(values, 0.0) ** 2)))
    return float(np.mean(values)) / downside if downside > _noise(values) else None


def _noise(values: np.ndarray) -> float:
    """A spread this small is rounding, not variation (equal values give about 1e-16, not 0)."""
    return 1e-12 * max(1.0, float(np.max(np.abs(values))))


def daily_r(ordered: Sequence[TradeResult]) -> np.ndarray:
    """R summed per UTC day of close, from the first to the last close day (empty days are 0)."""
    if not ordered:
        return np.empty(0)
    first = ordered[0].close_ts_ms // DAY_MS
    days = np.zeros(ordered[-1].close_ts_ms // DAY_MS - first + 1)
    for t in ordered:
        days[t.close_ts_ms // DAY_MS - first] += t.r
    return days


def r_curve(ordered: Sequence[TradeResult]) -> list[tuple[int, float]]:
    """Cumulative R from 0, one point per distinct close time (for drawdowns and charts)."""
    if not ordered:
        return []
    points = [(min(ordered[0].open_ts_ms, ordered[0].close_ts_ms), 0.0)]
    total = 0.0
    for close_ts_ms, group in groupby(ordered, key=lambda t: t.close_ts_ms):
        total += math.fsum(t.r for t in group)
        points.append((close_ts_ms, total))
    return points


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None
