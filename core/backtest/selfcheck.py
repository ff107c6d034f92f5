"""The backtester's two self-checks, as freqtrade's look-ahead and recursive analyses do.

- Look-ahead: cut every series at ``cut_ts_ms`` (drop the candles that had not closed by then) and run
  again: every decision before the cut, and every trade closed before it, must be identical.
- History: run once from ``start_a`` and once from an earlier ``start_b``, with decisions from the same
  ``from_ts_ms``: once every window the analysis reads is full in both runs (the warm-up), the
  decisions and trades must be identical. A run whose data cannot fill the windows (e.g. 500 daily
  candles from a few months of 5m data) is reported as such by ``BacktestResult.warmup``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from core.backtest.data import between
from core.backtest.engine import run_backtest
from core.backtest.records import BacktestConfig, BacktestResult, BacktestTrade, Evaluation
from core.models import CandleArrays, close_end_ms

TimeframeBuilder = Callable[[CandleArrays], dict[str, CandleArrays]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    decisions_compared: int
    trades_compared: int
    first_difference: str  # "" when ok


def lookahead_check(base: CandleArrays, build: TimeframeBuilder, config: BacktestConfig,
                    cut_ts_ms: int) -> CheckResult:
    """Truncating the future never changes a past decision (see the module docstring)."""
    full = run_backtest(base, build(base), config)
    cut = truncate(base, cut_ts_ms)
    short = run_backtest(cut, {k: truncate(v, cut_ts_ms) for k, v in build(base).items()}, config)
    return _compare(_before(full, cut_ts_ms), _before(short, cut_ts_ms))


def history_check(base: CandleArrays, build: TimeframeBuilder, config: BacktestConfig, *, start_a: int,
                  start_b: int, from_ts_ms: int) -> CheckResult:
    """More history before ``from_ts_ms`` changes no decision once the windows are full."""
    config = dataclasses.replace(config, from_ts_ms=from_ts_ms)
    a_base, b_base = between(base, start_a, None), between(base, start_b, None)
    a = run_backtest(a_base, build(a_base), config)
    b = run_backtest(b_base, build(b_base), config)
    return _compare((a.evaluations, a.trades), (b.evaluations, b.trades))


def truncate(candles: CandleArrays, cut_ts_ms: int) -> CandleArrays:
    """Only the candles closed by ``cut_ts_ms``."""
    keep = int((close_end_ms(candles.open_time_ms, candles.interval) <= cut_ts_ms).sum())
    return between(candles, None, int(candles.open_time_ms[keep]) if keep < len(candles) else None)


def _before(result: BacktestResult, cut_ts_ms: int) -> tuple[tuple[Evaluation, ...], tuple[BacktestTrade, ...]]:
    return (tuple(e for e in result.evaluations if e.ts_ms < cut_ts_ms),
            tuple(t for t in result.trades if t.close_ts_ms < cut_ts_ms and t.outcome.value != "expired"))


def _compare(a: tuple[tuple[Evaluation, ...], tuple[BacktestTrade, ...]],
             b: tuple[tuple[Evaluation, ...], tuple[BacktestTrade, ...]]) -> CheckResult:
    (evaluations_a, trades_a), (evaluations_b, trades_b) = a, b
    for name, left, right in (("decision", evaluations_a, evaluations_b), ("trade", trades_a, trades_b)):
        if len(left) != len(right):
            return CheckResult(False, len(evaluations_a), len(trades_a), f"{len(left)} vs {len(right)} {name}s")
        for x, y in zip(left, right, strict=True):
            if repr(x) != repr(y):
                return CheckResult(False, len(evaluations_a), len(trades_a), f"{name} differs: {x!r} vs {y!r}")
    return CheckResult(True, len(evaluations_a), len(trades_a), "")
