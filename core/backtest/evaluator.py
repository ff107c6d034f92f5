"""The optimizer's walk-forward backtest: trades of the strategy under changed settings over a period."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.backtest.data import between
from core.backtest.engine import run_backtest
from core.backtest.records import BacktestConfig
from core.learning.outcomes import TradeResult
from core.models import CandleArrays, close_end_ms

TAIL_MS = 7 * 86_400_000  # a window's trades may run this long after it; later ones expire there


class BacktestEvaluator:
    """A ``StrategyEvaluator``: each call backtests decisions in [since, until) with ``changes`` applied to
    ``values`` (a tunables snapshot). Every setting the backtest reads is supported."""

    def __init__(self, base: CandleArrays, htf: dict[str, CandleArrays], symbol: str, values: Mapping[str, Any],
                 **config: Any) -> None:
        self._base, self._htf, self._symbol, self._values, self._config = base, htf, symbol, dict(values), config
        setup = htf[str(values["signal.setup_timeframe"])]
        ends = close_end_ms(setup.open_time_ms, setup.interval)
        self._span = (int(ends[0]), int(ends[-1])) if len(ends) else (0, 0)

    def span(self) -> tuple[int, int]:
        return self._span

    def supports(self, name: str) -> bool:
        return name in self._values

    def results(self, changes: Mapping[str, Any], since_ts_ms: int, until_ts_ms: int) -> list[TradeResult]:
        config = BacktestConfig.from_values(self._symbol, {**self._values, **changes}, from_ts_ms=since_ts_ms,
                                            to_ts_ms=until_ts_ms, **self._config)
        base = between(self._base, None, until_ts_ms + TAIL_MS)
        return run_backtest(base, self._htf, config).results()
