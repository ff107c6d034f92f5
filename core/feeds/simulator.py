"""``SimulatedFeed``: the market simulator as a ``MarketFeed`` (MARKET_FEED=sim, and the fallback).

The feed runs a ``MarketSimulator`` on the event loop in one task, generating whole 100 ms steps
as simulated time catches up with ``clock`` (times ``speed``) and handing every event to the
subscribers. At speed 1 the events' timestamps track the clock: on start the simulator, whose
history ends at the whole minute before its start time, first catches up to the clock.
``steps``/``run_until`` fast-forward synchronously (tests, benchmarks; no sleeping).
``history`` is the simulator itself, a ``HistoryProvider`` whose candles end where the live price
starts. Everything the bot shows from this feed must be labelled SIMULATED (``source``).
The engine is in ``sim_market``; calibration and tolerances are in docs/simulator.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from core.feeds.sim_market import MarketSimulator
from core.feeds.sim_params import SimParams
from core.feeds.sim_profiles import DEFAULT_SIM_SYMBOLS, SimSymbol, sim_symbol
from core.feeds.sim_regimes import Regime
from core.market.symbols import SymbolMap, SymbolSpec
from core.models import DataSource, MarketEvent
from core.ports import Clock, FeedHealthSink, MarketHandler, SystemClock
from core.tunables import Tunable

__all__ = ["DEFAULT_SIM_SYMBOLS", "TUNABLES", "MarketSimulator", "Regime", "SimParams", "SimSymbol",
           "SimulatedFeed", "sim_symbol"]

log = logging.getLogger(__name__)

TUNABLES: tuple[Tunable, ...] = (
    Tunable("sim.volatility_scale", float, 1.0, "Multiplies the volatility of every simulated symbol",
            min=0.1, max=10.0, unit="x"),
    Tunable("sim.activity_scale", float, 1.0, "Multiplies simulated trade rates", min=0.1, max=10.0, unit="x"),
    Tunable("sim.whale_tail_alpha", float, 1.66,
            "Pareto exponent of simulated trade sizes above $18.6k (lower means more whales)", min=1.1, max=3.0),
    Tunable("sim.history_days", int, 1280, "Days of simulated higher-timeframe history (generated at start)",
            min=60, max=4000, unit="days", restart_only=True),
    Tunable("sim.speed", float, 1.0, "Simulated seconds per wall-clock second", min=0.1, max=1000.0, unit="x"),
)

CATCH_UP_LIMIT_MS = 120_000  # on start, a simulator at most this far behind the clock catches up to it


class SimulatedFeed:
    """MarketFeed over a ``MarketSimulator``; see the module docstring."""

    source = DataSource.SIMULATED

    def __init__(self, symbols: SymbolMap | Iterable[SymbolSpec | SimSymbol | str] | None = None, *,
                 seed: int = 0, clock: Clock | None = None, speed: float = 1.0, params: SimParams | None = None,
                 simulator: MarketSimulator | None = None, health: FeedHealthSink | None = None,
                 max_steps_per_turn: int = 50) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive; got {speed!r}")
        self.clock = clock or SystemClock()
        if simulator is None:
            specs = symbols.specs() if isinstance(symbols, SymbolMap) else symbols
            simulator = MarketSimulator(specs, seed, self.clock.now_ms(), params)
        self.simulator = simulator
        self.history = simulator  # HistoryProvider
        self.speed = speed
        self._health = health
        self._max_steps = max(1, max_steps_per_turn)
        self._handlers: list[MarketHandler] = []
        self._task: asyncio.Task[None] | None = None
        self.events = 0

    def subscribe(self, handler: MarketHandler) -> None:
        self._handlers.append(handler)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self._task is not None:
            return
        now = self.clock.now_ms()
        sim_now = self.simulator.now_ms
        origin = now if 0 <= now - sim_now <= CATCH_UP_LIMIT_MS else sim_now
        if self._health is not None:
            self._health.record_connected(list(self.simulator.symbols), now)
        self._task = asyncio.create_task(self._run(now, origin), name="simulated feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if self._health is not None:
                self._health.record_disconnected(list(self.simulator.symbols), "stopped", self.clock.now_ms())

    # ------------------------------------------------------------------ fast-forward

    def steps(self, count: int) -> int:
        """Generate ``count`` steps now and deliver their events; returns how many."""
        delivered = 0
        for _ in range(count):
            delivered += self._deliver(self.simulator.step())
        return delivered

    def run_until(self, ts_ms: int) -> int:
        """Generate and deliver until simulated time reaches ``ts_ms``; returns the event count."""
        delivered = 0
        while self.simulator.now_ms < ts_ms:
            delivered += self._deliver(self.simulator.step())
        return delivered

    # ------------------------------------------------------------------ real time

    async def _run(self, wall_origin_ms: int, sim_origin_ms: int) -> None:
        """Step whenever simulated time is due; yield after ``max_steps_per_turn`` when behind."""
        sim = self.simulator
        step_ms = sim.params.step_ms
        while True:
            target = sim_origin_ms + int((self.clock.now_ms() - wall_origin_ms) * self.speed)
            done = 0
            while sim.now_ms + step_ms <= target and done < self._max_steps:
                self._deliver(sim.step())
                done += 1
            if done >= self._max_steps:
                await asyncio.sleep(0)  # catching up: let the bot run between batches
                continue
            wait_ms = (sim.now_ms + step_ms - target) / self.speed
            await asyncio.sleep(max(wait_ms, 1.0) / 1000.0)

    def _deliver(self, events: list[MarketEvent]) -> int:
        for event in events:
            for handler in self._handlers:
                try:
                    handler(event)
                except Exception:
                    log.exception("market handler %r failed on %r", handler, event)
        self.events += len(events)
        return len(events)
