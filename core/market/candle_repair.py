"""Higher-timeframe candles the store built itself are replaced by Binance's own from REST.

The candle store derives a 1h/4h/1d/... candle from its minutes when the bucket closes. Across a feed
gap those minutes are flat fillers (no volume), so the derived candle is wrong: its high, low and
volume miss what traded while the feed was down. ``CandleRepairer`` takes every candle the store
closed (``CandleStore.take_closed``) and asks the ``HistoryProvider`` (Binance REST, cached) for the
same candle; Binance's replaces the derived one. In live mode that refreshes every higher-timeframe
candle on its close; a candle built across a gap (``quiet_minutes`` > 0) that cannot be fetched after
``market.candle_repair_attempts`` tries, or without any REST history (replay), is listed as not
repaired, and ``/health`` says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.market.candle_store import ClosedCandle
from core.market.candles import next_bucket_start_ms
from core.market.state import MarketState
from core.ports import Clock, HistoryProvider
from core.tunables import Tunable, params_from_values

log = logging.getLogger(__name__)

TUNABLES: tuple[Tunable, ...] = (
    Tunable("market.candle_repair_attempts", int, 6, "REST fetches tried for a higher-timeframe candle the bot "
            "built itself before a gap in it is reported as not repaired", min=1, max=100),
    Tunable("market.candle_repair_retry_s", float, 10.0, "wait between those fetches", min=1, max=3600, unit="s"),
)


@dataclass(frozen=True, slots=True)
class RepairParams:
    candle_repair_attempts: int = 6
    candle_repair_retry_s: float = 10.0

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | Any) -> RepairParams:
        return params_from_values(cls, "market", values)


@dataclass(slots=True)
class _Pending:
    symbol: str
    candle: ClosedCandle
    attempts: int = 0
    due_ms: int = 0
    last_error: str = ""


class CandleRepairer:
    """Refreshes derived higher-timeframe candles from REST; see the module docstring."""

    def __init__(self, market: MarketState, history: HistoryProvider | None, clock: Clock, *,
                 params: RepairParams | Any = None, no_history_reason: str = "no REST history") -> None:
        self._market = market
        self._history = history
        self._clock = clock
        self._params = params  # a RepairParams, or tunable values read at each run
        self._no_history_reason = no_history_reason
        self._pending: dict[tuple[str, str, int], _Pending] = {}
        self.replaced = 0

    def params(self) -> RepairParams:
        params = self._params
        if params is None or isinstance(params, RepairParams):
            return params or RepairParams()
        return RepairParams.from_values(params)

    async def run_once(self) -> int:
        """Take the candles closed since the last run and fetch what is due; returns how many were replaced."""
        now_ms = self._clock.now_ms()
        for symbol in self._market.symbols():
            store = self._market.candle_store(symbol)
            for closed in store.take_closed() if store is not None else ():
                self._pending[(symbol, closed.interval, closed.open_time_ms)] = _Pending(symbol, closed, due_ms=now_ms)
        replaced = 0
        for key, pending in list(self._pending.items()):
            if pending.due_ms <= now_ms:
                replaced += await self._attempt(key, pending, now_ms)
        self.replaced += replaced
        return replaced

    async def _attempt(self, key: tuple[str, str, int], pending: _Pending, now_ms: int) -> int:
        symbol, interval, open_ms = key
        if self._history is None:
            self._give_up(key, pending, self._no_history_reason)
            return 0
        end_ms = next_bucket_start_ms(open_ms, interval)  # the candle has closed by then
        try:
            candles = await self._history.klines(symbol, interval, limit=2, end_ms=end_ms)
        except Exception as e:  # noqa: BLE001 - any failure is retried, then reported
            log.info("no REST %s %s candle at %s yet: %s", symbol, interval, open_ms, e)
            return self._retry(key, pending, now_ms, f"REST failed: {str(e)[:120] or type(e).__name__}")
        found = [c for c in candles if c.open_time_ms == open_ms and c.closed]
        if not found:
            return self._retry(key, pending, now_ms, "Binance has not published it")
        self._market.set_history(symbol, interval, found)
        store = self._market.candle_store(symbol)
        if store is not None:
            store.forget_unrepaired(interval, open_ms)
        del self._pending[key]
        return 1

    def _retry(self, key: tuple[str, str, int], pending: _Pending, now_ms: int, reason: str) -> int:
        params = self.params()
        pending.attempts += 1
        pending.last_error = reason
        if pending.attempts >= params.candle_repair_attempts:
            self._give_up(key, pending, f"{reason} after {pending.attempts} tries")
        else:
            pending.due_ms = now_ms + int(params.candle_repair_retry_s * 1000)
        return 0

    def _give_up(self, key: tuple[str, str, int], pending: _Pending, reason: str) -> None:
        del self._pending[key]
        if pending.candle.quiet_minutes > 0:  # built across a gap and still the bot's own: say so
            store = self._market.candle_store(pending.symbol)
            if store is not None:
                store.mark_unrepaired(pending.candle, reason)

    def pending(self) -> int:
        return len(self._pending)
