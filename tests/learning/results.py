"""Builds TradeResult lists for the learning tests, and an independent computation of the metrics."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime

from core.learning.outcomes import Outcome, TradeResult, classify

T0 = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC
HOUR_MS = 3_600_000


def result(r: float, *, close_h: float = 0.0, key: str = "", expired: bool = False, **tags: str) -> TradeResult:
    close_ts_ms = T0 + int(close_h * HOUR_MS)
    return TradeResult(key=key or f"k{close_h}-{r}", open_ts_ms=close_ts_ms - HOUR_MS, close_ts_ms=close_ts_ms, r=r,
                       outcome=classify(r, expired=expired), tags=tuple(tags.items()))


def series(rs: list[float], *, step_h: float = 5.0, **tags: str) -> list[TradeResult]:
    return [result(r, close_h=i * step_h, key=f"t{i:04d}", **tags) for i, r in enumerate(rs)]


def independent(results: list[TradeResult]) -> dict:
    """The metrics computed the plain way, without the code under test."""
    ordered = sorted(results, key=lambda t: (t.close_ts_ms, t.open_ts_ms, t.key))
    rs = [t.r for t in ordered]
    n = len(rs)
    wins = sum(1 for t in ordered if t.outcome is Outcome.WIN)
    z = 1.959963984540054
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    gains, losses = sum(r for r in rs if r > 0), -sum(r for r in rs if r < 0)
    by_day: dict = {}
    for t in ordered:
        day = datetime.fromtimestamp(t.close_ts_ms / 1000, UTC).date()
        by_day[day] = by_day.get(day, 0.0) + t.r
    first, last = min(by_day), max(by_day)
    daily = [by_day.get(datetime.fromordinal(o).date(), 0.0) for o in range(first.toordinal(), last.toordinal() + 1)]
    # drawdown: brute force over every pair of close-time steps (same-ms closes are one step)
    steps: dict[int, float] = {}
    for t in ordered:
        steps[t.close_ts_ms] = steps.get(t.close_ts_ms, 0.0) + t.r
    curve = [0.0]
    for ts in sorted(steps):
        curve.append(curve[-1] + steps[ts])
    drawdown = max((curve[i] - curve[j] for i in range(len(curve)) for j in range(i, len(curve))), default=0.0)

    def ratio(values: list[float], downside: bool) -> float | None:
        if len(values) < 2:
            return None
        spread = (math.sqrt(sum(min(v, 0.0) ** 2 for v in values) / len(values)) if downside
                  else statistics.stdev(values))
        return statistics.fmean(values) / spread if spread > 0 else None

    return dict(count=n, wins=wins, losses=sum(1 for t in ordered if t.outcome is Outcome.LOSS),
                win_rate=p, win_low=max(0.0, centre - half), win_high=min(1.0, centre + half),
                profit_factor=gains / losses if losses > 0 else None, expectancy=statistics.fmean(rs),
                total=sum(rs), sharpe_trade=ratio(rs, False), sortino_trade=ratio(rs, True),
                sharpe_daily=ratio(daily, False), sortino_daily=ratio(daily, True), days=len(daily),
                drawdown=drawdown)
