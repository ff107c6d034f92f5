"""SimulatedFeed as the MarketFeed port: fast-forward, real time on a clock, speed, lifecycle."""

from __future__ import annotations

import asyncio

import pytest

from core.feeds.sim_profiles import sim_symbols_for
from core.feeds.simulator import TUNABLES, MarketSimulator, Regime, SimParams, SimulatedFeed
from core.market.symbols import AssetClass, SymbolSpec, default_symbol_map
from core.models import BookSnapshot, Candle, DataSource, MarketEvent, Trade
from core.ports import FixedClock, MarketFeed
from core.tunables import TunableValues

WEDNESDAY_MS = 1_750_255_230_000  # 2025-06-18 14:00:30 UTC


class HealthLog:
    """A FeedHealthSink that records what the feed reported."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def record_connected(self, symbols, ts_ms):
        self.calls.append(("connected", tuple(symbols)))

    def record_disconnected(self, symbols, reason, ts_ms):
        self.calls.append(("disconnected", reason))


def make_feed(**kwargs) -> tuple[SimulatedFeed, FixedClock, list[MarketEvent]]:
    clock = FixedClock(WEDNESDAY_MS)
    feed = SimulatedFeed(default_symbol_map(), seed=3, clock=clock, **kwargs)
    events: list[MarketEvent] = []
    feed.subscribe(events.append)
    return feed, clock, events


async def wait_for(condition, turns: int = 2000) -> None:
    """Let the feed's task run until ``condition()`` holds (bounded; no timing asserted)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition not reached")


def test_the_feed_is_a_simulated_market_feed_over_the_symbol_map():
    feed, _, _ = make_feed()
    assert isinstance(feed, MarketFeed)
    assert feed.source is DataSource.SIMULATED
    assert feed.simulator.symbols == tuple(default_symbol_map().symbols())
    assert feed.simulator.start_ms == WEDNESDAY_MS - 30_000  # floored to the minute


def test_fast_forward_delivers_every_event_to_every_subscriber_in_order():
    feed, _, events = make_feed()
    second: list[MarketEvent] = []
    feed.subscribe(second.append)
    count = feed.run_until(feed.simulator.now_ms + 2_000)
    assert count == len(events) == len(second) and events == second
    assert feed.steps(5) > 0
    kinds = {type(e) for e in events}
    assert kinds == {Trade, BookSnapshot, Candle}


def test_a_failing_subscriber_does_not_stop_the_others():
    feed, _, events = make_feed()

    def broken(event: MarketEvent) -> None:
        raise RuntimeError("boom")

    feed.subscribe(broken)
    later: list[MarketEvent] = []
    feed.subscribe(later.append)
    feed.steps(20)
    assert events and len(later) == len(events)


async def test_real_time_catches_up_to_the_clock_then_follows_it():
    health = HealthLog()
    feed, clock, events = make_feed(health=health)
    sim = feed.simulator
    await feed.start()
    try:
        await wait_for(lambda: sim.now_ms >= clock.now_ms() - 100)  # 30 s behind at start
        caught_up = sim.now_ms
        assert caught_up <= clock.now_ms()
        clock.advance(2_000)
        await wait_for(lambda: sim.now_ms >= caught_up + 2_000 - 100)
        assert sim.now_ms <= clock.now_ms()
        assert max(e.ts_ms for e in events if isinstance(e, Trade)) < clock.now_ms()
    finally:
        await feed.stop()
    assert not feed.running
    stopped_at = sim.now_ms
    clock.advance(5_000)
    await asyncio.sleep(0.01)
    assert sim.now_ms == stopped_at
    assert health.calls[0][0] == "connected" and health.calls[-1] == ("disconnected", "stopped")


async def test_speed_runs_simulated_time_faster_than_the_clock():
    feed, clock, _ = make_feed(speed=10.0)
    sim = feed.simulator
    await feed.start()
    try:
        await wait_for(lambda: sim.now_ms >= clock.now_ms() - 100)
        origin = sim.now_ms
        clock.advance(1_000)
        await wait_for(lambda: sim.now_ms >= origin + 9_900)
    finally:
        await feed.stop()


async def test_history_is_served_by_the_feed_as_a_history_provider():
    feed, _, _ = make_feed()
    candles = await feed.history.klines("GBPJPY", "1d", limit=30)
    assert len(candles) == 30 and all(c.symbol == "GBPJPY" for c in candles)


def test_start_refuses_a_non_positive_speed():
    with pytest.raises(ValueError, match="speed"):
        SimulatedFeed(["BTCUSD"], clock=FixedClock(WEDNESDAY_MS), speed=0)


def test_params_come_from_the_tunables():
    values = TunableValues(TUNABLES)
    assert SimParams.from_values(values) == SimParams()
    values.set("sim.volatility_scale", "2.5")
    values.set("sim.whale_tail_alpha", "1.4")
    params = SimParams.from_values(values, fixed_regime=Regime.CALM)
    assert params.volatility_scale == 2.5 and params.sizes.tail_alpha == 1.4
    assert params.fixed_regime is Regime.CALM
    assert SimParams.from_values({"sim.activity_scale": 3}).activity_scale == 3.0


def test_volatility_scale_makes_the_market_move_more():
    def one_second_moves(scale: float) -> float:
        sim = MarketSimulator(["EURUSD"], 1, WEDNESDAY_MS,
                              SimParams(volatility_scale=scale, fixed_regime=Regime.TRENDING, book_every_steps=0))
        closes = [e.close for e in sim.steps(3000) if isinstance(e, Candle)]
        return max(closes) - min(closes)

    assert one_second_moves(5.0) > 2 * one_second_moves(1.0)


def test_symbols_without_simulator_defaults_get_their_class_defaults():
    spec = SymbolSpec("US30", None, None, "US30", asset_class=AssetClass.INDEX, price_digits=1)
    (sym,) = sim_symbols_for([spec], start_prices={"US30": 42_000.0})
    assert (sym.start_price, sym.tick_size, sym.asset_class) == (42_000.0, 0.1, AssetClass.INDEX)
    sim = MarketSimulator([spec, "BTCUSD"], 1, WEDNESDAY_MS)
    assert sim.symbols == ("US30", "BTCUSD")
    assert any(isinstance(e, Trade) and e.symbol == "US30" for e in sim.steps(100))
