"""Continuous evaluation: every close of the setup timeframe evaluates the trader's symbols.

``MarketState`` reports each higher-timeframe close (``on_close``). For the setup timeframe the
evaluator snapshots the market at once (so a fast replay evaluates exactly the state at the
close) and runs the evaluation as its own task; the analysis itself runs off the event loop
(``SignalService.evaluate``). A symbol whose previous evaluation is still running skips this
close: it is counted and ``/health`` says so; nothing queues up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from core.analysis_service import NotReady
from core.bus import EventBus
from core.events import SignalEvaluated, Trigger
from core.market.state import MarketState
from core.ports import Clock
from core.signals import SignalService
from core.tunables import Tunable, TunableValues

log = logging.getLogger("moneybot.evaluation")

TUNABLES: tuple[Tunable, ...] = (
    Tunable("evaluation.on_close", bool, True,
            "evaluate the trader's symbols on every close of the setup timeframe (signal.setup_timeframe)"),
)


@dataclass(frozen=True, slots=True)
class EvaluatorStatus:
    evaluated: int
    not_ready: int
    skipped: int  # closes dropped because the symbol's previous evaluation was still running
    errors: int
    running: tuple[str, ...]
    last_skip: str = ""
    last_error: str = ""


class ContinuousEvaluator:
    def __init__(self, *, signals: SignalService, market: MarketState, bus: EventBus, clock: Clock,
                 tunables: TunableValues, symbols: Iterable[str]) -> None:
        self._signals = signals
        self._market = market
        self._bus = bus
        self._clock = clock
        self._tunables = tunables
        self._symbols = frozenset(symbols)
        self._running: dict[str, asyncio.Task] = {}
        self.evaluated = self.not_ready = self.skipped = self.errors = 0
        self.last_skip = self.last_error = ""

    def on_close(self, symbol: str, interval: str, close_ms: int) -> None:
        """A candle of ``interval`` closed at ``close_ms`` (called on the ingest path: stays cheap)."""
        if interval != self._tunables["signal.setup_timeframe"] or symbol not in self._symbols:
            return
        if not self._tunables["evaluation.on_close"]:
            return
        if symbol in self._running:
            self.skipped += 1
            self.last_skip = f"{symbol} {interval} close at {close_ms}: the previous evaluation was still running"
            log.warning("evaluation skipped: %s", self.last_skip)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): nothing can run the evaluation
            return
        try:
            snapshot = self._signals.snapshot(symbol, at_ms=close_ms)
        except NotReady as e:
            self.not_ready += 1
            self._bus.publish(SignalEvaluated(
                ts_ms=self._clock.now_ms(), symbol=symbol, trigger=Trigger.CLOSE, source=self._market.source,
                price=self._price(symbol), analysis=None, rejection=f"not ready: {e}"))
            return
        task = loop.create_task(self._evaluate(symbol, snapshot), name=f"evaluate:{symbol}")
        self._running[symbol] = task

    async def _evaluate(self, symbol: str, snapshot) -> None:
        try:
            await self._signals.evaluate(symbol, trigger=Trigger.CLOSE, snapshot=snapshot)
            self.evaluated += 1
        except Exception as e:  # noqa: BLE001 - one failed evaluation must not stop the next
            self.errors += 1
            self.last_error = f"{symbol}: {type(e).__name__}: {e}"[:200]
            log.exception("continuous evaluation of %s failed", symbol)
        finally:
            self._running.pop(symbol, None)

    def _price(self, symbol: str) -> float:
        tick = self._market.tick(symbol)
        return tick.price if tick is not None else 0.0

    def status(self) -> EvaluatorStatus:
        return EvaluatorStatus(self.evaluated, self.not_ready, self.skipped, self.errors,
                               tuple(sorted(self._running)), self.last_skip, self.last_error)

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)



