"""``/backtest SYMBOL [days]``: the backtester over the history the bot already holds for a symbol.

The base series is the finest stored timeframe that reaches back ``days`` plus the warm-up (1h, else 4h,
else 1d); the analysis sees every stored higher timeframe; decisions start ``days`` before ``now_ms`` (or
as early as the data allows). Same settings as live (a tunables snapshot).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.backtest.engine import run_backtest
from core.backtest.records import BacktestConfig, BacktestResult
from core.models import HTF_INTERVALS, CandleArrays

DAY_MS = 86_400_000


class NoHistory(ValueError):
    """Not enough stored candles; the message says what there is."""


def stored_backtest(symbol: str, htf: Mapping[str, CandleArrays], values: Mapping[str, Any], *, days: int,
                    now_ms: int, equity: float) -> BacktestResult:
    series = {i: c for i, c in htf.items() if i in HTF_INTERVALS and len(c)}
    base = next((series[i] for i in HTF_INTERVALS if i in series and len(series[i]) >= 50), None)
    if base is None:
        have = ", ".join(f"{i} {len(c)}" for i, c in series.items()) or "none"
        raise NoHistory(f"{symbol}: not enough stored candles to backtest (have {have})")
    config = BacktestConfig.from_values(symbol, values, starting_equity=equity, from_ts_ms=now_ms - days * DAY_MS)
    return run_backtest(base, series, config)
