"""The trading use cases on the fakes beside the ports (core/fakes.py): no runtime, no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.bus import EventBus
from core.events import Event
from core.fakes import CannedAnalyser, InMemoryApprovalStore, InMemoryTradingRecords, ScriptedBroker
from core.market.health import FeedHealth
from core.market.price_sync import PriceSync
from core.market.state import MarketState
from core.market.symbols import default_symbol_map
from core.models import Direction, StreamKind, TradePlan
from core.money import MoneyService, lookup_from_ticks
from core.ports import FixedClock
from core.signals import SignalService
from core.trading import TradingService
from core.trading_state import TradingGuard
from core.tunables import TunableValues, catalog

T0 = 1_765_000_000_000
PLAN = TradePlan("BTCUSD", Direction.LONG, entry=100.0, stop=98.0, targets=(102.0, 104.0, 106.0), risk_reward=2.0,
                 confidence=70.0, setup_type="breakout", timeframe="1h", atr=1.0)


@dataclass
class Desk:
    clock: FixedClock
    bus: EventBus
    events: list[Event]
    broker: ScriptedBroker
    store: InMemoryApprovalStore
    tunables: TunableValues
    trading: TradingService
    signals: SignalService
    analyser: CannedAnalyser
    market: MarketState


def make_desk(*, script=(), price_sync: PriceSync | None = None, answers=None) -> Desk:
    clock = FixedClock(T0)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe("recorder", events.append)
    tunables = TunableValues(catalog())
    symbol_map = default_symbol_map()
    health = FeedHealth(clock)
    health.record_message("BTCUSD", StreamKind.TRADE, T0)  # a live feed: the feed gate passes
    market = MarketState(symbol_map, clock, health=health)
    broker = ScriptedBroker(quotes={"BTCUSD": (99.99, 100.01)}, script=script, clock=clock)
    store = InMemoryApprovalStore()
    guard = TradingGuard(InMemoryTradingRecords(), tunables, clock)
    money = MoneyService(symbol_map.specs(), clock, lookups=(lookup_from_ticks(market.tick),), tunables=tunables)
    trading = TradingService(store=store, broker=broker, market=market, health=health,
                             price_sync=price_sync or PriceSync.identity(), guard=guard, tunables=tunables,
                             clock=clock, bus=bus, money=money)
    analyser = CannedAnalyser(answers or {})
    signals = SignalService(analysis=analyser, store=store, bus=bus, clock=clock, tunables=tunables,
                            precheck=trading.precheck)
    return Desk(clock, bus, events, broker, store, tunables, trading, signals, analyser, market)


@pytest.fixture
async def desk():
    made = make_desk()
    await made.bus.start()
    yield made
    await made.signals.close()
    await made.bus.stop()
