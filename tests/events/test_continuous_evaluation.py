"""Continuous evaluation: one published evaluation per setup-timeframe close in the data, and subscribers
that sleep or raise change nothing for the others (their lag and errors are counted)."""

from __future__ import annotations

import asyncio
import gzip

import orjson

from bot.services import load_history
from core.analysis_service import AnalysisService
from core.bus import EventBus
from core.evaluation import ContinuousEvaluator
from core.events import SignalEvaluated, Trigger
from core.fakes import InMemoryApprovalStore
from core.feeds.replay import ReplayFeed
from core.feeds.simulator import SimulatedFeed
from core.market.health import FeedHealth
from core.market.state import CloseFanout, MarketState, MarketStateParams
from core.market.symbols import SymbolMap, default_specs
from core.models import HTF_INTERVALS, Candle, DataSource
from core.ports import FixedClock
from core.signals import SignalService
from core.tunables import TunableValues, catalog
from tests.analysis import realdata
from tests.paths import BINANCE_DATA

HOUR_MS = 3_600_000
REPLAY_FILES = [BINANCE_DATA / "ws/hftbacktest_spot_btcusdt_20240808.txt.gz",
                BINANCE_DATA / "ws/hftbacktest_spot_btcusdt_20240809.txt.gz"]


class Desk:
    """Market state, the signal use case and the evaluator, wired the way the composition root does."""

    def __init__(self, clock: FixedClock, source: DataSource, symbols: tuple[str, ...] = ("BTCUSD", "EURUSD")) -> None:
        self.clock = clock
        self.symbol_map = SymbolMap([s for s in default_specs() if s.symbol in symbols])
        self.tunables = TunableValues(catalog())
        self.bus = EventBus(default_maxsize=10_000)
        closes = CloseFanout()
        self.health = FeedHealth(clock)
        self.market = MarketState(self.symbol_map, clock, source, health=self.health, on_close=closes,
                                  params=MarketStateParams(record_messages=source is DataSource.SIMULATED))
        self.signals = SignalService(analysis=AnalysisService(self.market, self.symbol_map, self.tunables, clock),
                                     store=InMemoryApprovalStore(), bus=self.bus, clock=clock, tunables=self.tunables)
        self.evaluator = ContinuousEvaluator(signals=self.signals, market=self.market, bus=self.bus, clock=clock,
                                             tunables=self.tunables, symbols=self.symbol_map.symbols())
        closes.add(self.evaluator.on_close)
        self.evaluations: list[SignalEvaluated] = []
        self.bus.subscribe("recorder", self.evaluations.append, SignalEvaluated)

    async def settle(self) -> None:
        for _ in range(500):
            if not self.evaluator.status().running:
                break
            await asyncio.sleep(0.01)
        assert await self.bus.drain(10.0)

    async def close(self) -> None:
        await self.evaluator.close()
        await self.signals.close()
        await self.bus.stop()


def _trade_hours(paths) -> set[int]:
    """Independently: the hours in which the recordings have trades (orjson only)."""
    hours = set()
    for path in paths:
        with gzip.open(path, "rb") as f:
            for line in f:
                message = orjson.loads(line.split(b" ", 1)[1])
                data = message.get("data", message)
                if data.get("e") == "trade":
                    hours.add(int(data["T"]) // HOUR_MS)
    return hours


def _history_until(ts_ms: int) -> dict[str, list[Candle]]:
    """Real USD-M BTCUSDT 1h candles closed by ``ts_ms``, with 4h and 1d built from them."""
    hourly = realdata.klines(realdata.BTC_USDM_1H).until(ts_ms)
    candles = [Candle("BTCUSD", "1h", int(t), o, h, lo, c, v) for t, o, h, lo, c, v in zip(
        hourly.open_time_ms, hourly.open, hourly.high, hourly.low, hourly.close, hourly.volume, strict=True)]
    out = {"1h": candles[-1000:]}
    for interval, ms in (("4h", 4 * HOUR_MS), ("1d", 24 * HOUR_MS)):
        buckets: dict[int, list[Candle]] = {}
        for c in candles:
            buckets.setdefault(c.open_time_ms // ms * ms, []).append(c)
        out[interval] = [Candle("BTCUSD", interval, start, group[0].open, max(c.high for c in group),
                                min(c.low for c in group), group[-1].close, sum(c.volume for c in group))
                         for start, group in sorted(buckets.items()) if len(group) == ms // HOUR_MS]
    return out


async def test_replay_evaluates_once_per_setup_close_in_the_data():
    hours = sorted(_trade_hours(REPLAY_FILES))
    expected_closes = [(h + 1) * HOUR_MS for h in hours[:-1]]  # every hour boundary the trades cross
    assert expected_closes  # the recordings span midnight
    clock = FixedClock(hours[0] * HOUR_MS)
    desk = Desk(clock, DataSource.REPLAY)
    for interval, candles in _history_until(hours[0] * HOUR_MS + 1).items():
        desk.market.set_history("BTCUSD", interval, candles)
    slow_seen: list[int] = []

    async def slow(event: SignalEvaluated) -> None:
        await asyncio.sleep(0.2)
        slow_seen.append(event.ts_ms)

    def broken(event: SignalEvaluated) -> None:
        raise RuntimeError("a subscriber bug")

    desk.bus.subscribe("slow", slow, SignalEvaluated)
    desk.bus.subscribe("broken", broken, SignalEvaluated)
    feed = ReplayFeed(REPLAY_FILES, from_binance=desk.symbol_map.from_binance, speed=None, clock=clock,
                      health=desk.health)
    feed.subscribe(desk.market.apply)
    await desk.bus.start()
    await feed.start()
    await feed.done.wait()
    await desk.settle()

    closes = [e for e in desk.evaluations if e.trigger is Trigger.CLOSE]
    assert [(e.symbol, e.rejection if e.analysis is None else "ready") for e in closes] == [
        ("BTCUSD", "ready")] * len(expected_closes)
    assert [(e.symbol, e.analysis is not None) for e in closes] == [("BTCUSD", True)] * len(expected_closes)
    for evaluation, close in zip(closes, expected_closes, strict=True):  # the analysis sees the closed candle
        assert evaluation.analysis.ts_ms == close
    stats = {s.name: s for s in desk.bus.stats()}
    assert stats["broken"].errors == len(closes) and stats["recorder"].errors == 0
    assert len(slow_seen) == len(closes) and stats["slow"].lag_max_ms >= 0.0
    assert desk.evaluator.status().skipped == 0
    await feed.stop()
    await desk.close()


async def test_simulated_hours_evaluate_every_symbol_at_every_close():
    start = 1_763_000_000_000 // HOUR_MS * HOUR_MS + 10 * 60_000  # 10 minutes into an hour
    clock = FixedClock(start)
    desk = Desk(clock, DataSource.SIMULATED)
    feed = SimulatedFeed(desk.symbol_map, seed=11, clock=clock)
    feed.subscribe(desk.market.apply)
    await load_history(desk.market, feed.history, desk.symbol_map.symbols())
    await desk.bus.start()
    hours = 2
    for hour in range(1, hours + 1):  # an hour at a time, as the clock would bring it
        feed.run_until(start - 10 * 60_000 + hour * HOUR_MS + 5_000)
        clock.set(feed.simulator.now_ms)
        await desk.settle()
    closes = [e for e in desk.evaluations if e.trigger is Trigger.CLOSE]
    symbols = desk.symbol_map.symbols()
    assert sorted((e.symbol, e.analysis is not None) for e in closes) == sorted(
        (s, True) for s in symbols for _ in range(hours))
    assert desk.evaluator.status().evaluated == hours * len(symbols)
    await desk.close()


async def test_a_close_while_the_last_evaluation_runs_is_skipped_and_counted():
    clock = FixedClock(1_763_000_000_000)
    desk = Desk(clock, DataSource.SIMULATED)
    feed = SimulatedFeed(desk.symbol_map, seed=11, clock=clock)
    feed.subscribe(desk.market.apply)
    await load_history(desk.market, feed.history, desk.symbol_map.symbols())
    feed.run_until(clock.now_ms() + 60_000)
    await desk.bus.start()
    interval = desk.tunables["signal.setup_timeframe"]
    desk.evaluator.on_close("BTCUSD", interval, clock.now_ms())
    desk.evaluator.on_close("BTCUSD", interval, clock.now_ms() + HOUR_MS)  # before the first could finish
    status = desk.evaluator.status()
    assert status.skipped == 1 and "still running" in status.last_skip
    await desk.settle()
    assert desk.evaluator.status().evaluated == 1
    assert [i for i in HTF_INTERVALS if i != interval]  # other timeframes never trigger an evaluation
    desk.evaluator.on_close("BTCUSD", "4h", clock.now_ms())
    assert desk.evaluator.status().running == ()
    await desk.close()
