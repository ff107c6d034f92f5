"""Market data and analysis services: which feed, where history comes from, and their lifecycle."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings
from core.analysis_service import AnalysisService
from core.bus import EventBus
from core.evaluation import ContinuousEvaluator
from core.events import SettingChanged
from core.feeds.binance_endpoints import BinanceEndpoints
from core.market.candle_repair import CandleRepairer
from core.market.health import FeedHealth, HealthParams
from core.market.health_watch import HealthWatch
from core.market.state import CloseFanout, MarketState, MarketStateParams
from core.market.symbols import SymbolMap, default_specs
from core.market.whales import WhaleTap
from core.models import HTF_INTERVALS, DataSource
from core.ports import Clock, HistoryProvider, MarketFeed, SystemClock

if TYPE_CHECKING:
    from bot.foundation import Foundation
    from core.feeds.simulator import SimulatedFeed

log = logging.getLogger("moneybot.market")
HISTORY_LIMIT = {"1h": 1000, "4h": 1000, "1d": 1000, "3d": 500, "1w": 400, "1M": 120}


def build_symbol_map(settings: Settings) -> SymbolMap:
    specs = {s.symbol: s for s in default_specs(settings.broker_symbol_suffix)}
    unknown = [s for s in settings.symbol_list if s not in specs]
    if unknown:
        raise ConfigError(f"SYMBOLS: {', '.join(unknown)} not known; allowed: {', '.join(specs)}")
    return SymbolMap([specs[s] for s in settings.symbol_list])


@dataclass
class MarketBundle:
    """The market side of the composition: built first, started once its listeners exist."""

    symbol_map: SymbolMap
    clock: Clock  # the data's clock: a replay's ages and freshness are on the recording's time
    health: FeedHealth
    health_watch: HealthWatch
    state: MarketState
    feed: MarketFeed
    history: HistoryProvider | None
    source: DataSource
    label: str
    analysis: AnalysisService
    repairer: CandleRepairer | None
    closes: CloseFanout
    stack: AsyncExitStack

    async def start(self, evaluator: ContinuousEvaluator) -> None:
        """Subscribe continuous evaluation to candle closes, load history, start the feed."""
        self.closes.add(evaluator.on_close)
        if self.history is not None:
            await load_history(self.state, self.history, self.symbol_map.symbols())
        if self.source is DataSource.SIMULATED:
            catch_up_simulator(self.feed, self.clock)  # type: ignore[arg-type]
        await self.feed.start()
        self.stack.push_async_callback(self.feed.stop)
        done = getattr(self.feed, "done", None)
        if self.source is DataSource.REPLAY and getattr(self.feed, "speed", 1.0) is None \
                and not getattr(self.feed, "loop", False):
            await done.wait()  # REPLAY_SPEED=max: serve the recording's final state from the first message


async def build_market(foundation: Foundation, bus: EventBus, stack: AsyncExitStack) -> MarketBundle:
    """The feed, market state, history, health and analysis (not started yet)."""
    settings, tunables = foundation.settings, foundation.tunables
    clock = _data_clock(settings, foundation.clock)  # a replay's ages and freshness are on the recording's clock
    symbol_map = build_symbol_map(settings)
    health = FeedHealth(clock, tunables.binding(HealthParams, "feed"), symbol_resolver=symbol_map.from_binance)
    feed, history, source, label = await _choose_feed(settings, symbol_map, health, foundation, stack, clock)
    closes = CloseFanout()
    whales = WhaleTap(bus, tunables)
    market = MarketState(symbol_map, clock, source, health=health,
                         params=MarketStateParams.from_values(tunables,
                                                              record_messages=source is DataSource.SIMULATED),
                         on_close=closes, on_whale=whales.on_trade)
    whales.refresh(market, symbol_map.symbols())

    def whale_tiers_changed(change: SettingChanged) -> None:
        if change.name.startswith("orderflow.whale_tier_"):
            whales.refresh(market, symbol_map.symbols())

    bus.subscribe("whale-floors", whale_tiers_changed, SettingChanged)
    feed.subscribe(market.apply)
    return MarketBundle(symbol_map, clock, health, HealthWatch(health, bus, clock, _watched(symbol_map)), market,
                        feed, history, source, label, AnalysisService(market, symbol_map, tunables, clock),
                        _candle_repairer(market, history, source, clock, tunables), closes, stack)


def _watched(symbol_map: SymbolMap) -> list[str]:
    return [s for s in symbol_map.symbols() if symbol_map.has_order_flow(s)]


def catch_up_simulator(feed: SimulatedFeed, clock: Clock) -> None:
    """Fast-forward the simulated market to the clock (at most the minute it started in) so every
    symbol has a price, a book and recent trades before the bot answers its first message."""
    feed.run_until(clock.now_ms())
    if feed.events == 0:  # started on a whole minute: one step gives every symbol its first data
        feed.steps(1)


async def load_history(market: MarketState, history: HistoryProvider, symbols: list[str]) -> None:
    """Closed higher-timeframe candles for every symbol; a failure leaves that series empty (logged)."""
    for symbol in symbols:
        for interval in HTF_INTERVALS:
            try:
                candles = await history.klines(symbol, interval, limit=HISTORY_LIMIT[interval])
            except Exception as e:  # noqa: BLE001 - one missing series must not stop the bot
                log.warning("no %s %s history: %s", symbol, interval, e)
                continue
            market.set_history(symbol, interval, candles)


def _data_clock(settings: Settings, clock: Clock) -> Clock:
    from core.feeds.replay import ReplayClock

    return ReplayClock(clock) if settings.market_feed.startswith("replay:") else clock


def _candle_repairer(market: MarketState, history: HistoryProvider | None, source: DataSource, clock: Clock,
                     tunables) -> CandleRepairer | None:
    """Live: derived higher-timeframe candles are refreshed from Binance REST on close. Replay: there is
    no REST, so a candle built across a gap in the recording is reported as not repaired. Simulated: none."""
    if source is DataSource.SIMULATED:
        return None
    return CandleRepairer(market, history if source is DataSource.LIVE else None, clock, params=tunables,
                          no_history_reason="no REST history in a replay")


async def _choose_feed(settings: Settings, symbol_map: SymbolMap, health: FeedHealth, foundation: Foundation,
                       stack: AsyncExitStack, clock: Clock
                       ) -> tuple[MarketFeed, HistoryProvider | None, DataSource, str]:
    mode = settings.market_feed
    if mode.startswith("replay:"):
        return _replay(settings, symbol_map, health, mode.split(":", 1)[1], clock)
    if mode == "sim":
        return _simulated(settings, symbol_map, foundation, "SIMULATED")
    live = await _live(settings, symbol_map, health, foundation, stack)
    if live is not None:
        return live
    if mode == "live":
        raise ConfigError("MARKET_FEED: live, but Binance cannot be reached; use auto or sim to run offline")
    log.warning("Binance is unreachable: falling back to the SIMULATED market")
    return _simulated(settings, symbol_map, foundation, "SIMULATED (Binance unreachable at start)")


def _simulated(settings: Settings, symbol_map: SymbolMap, foundation: Foundation, label: str):
    from core.feeds.sim_params import SimParams
    from core.feeds.simulator import SimulatedFeed

    tunables = foundation.tunables
    feed = SimulatedFeed(symbol_map, seed=settings.sim_seed, clock=foundation.clock, speed=tunables["sim.speed"],
                         params=SimParams.from_values(tunables))
    return feed, feed.history, DataSource.SIMULATED, label


def _replay(settings: Settings, symbol_map: SymbolMap, health: FeedHealth, files: str, clock: Clock):
    from core.feeds.replay import ReplayFeed, parse_speed

    paths = [Path(p.strip()) for p in files.split(",") if p.strip()]
    try:
        feed = ReplayFeed(paths, from_binance=symbol_map.from_binance, speed=parse_speed(settings.replay_speed),
                          loop=settings.replay_loop, health=health, clock=clock)
    except FileNotFoundError as e:
        raise ConfigError(f"MARKET_FEED: {e}") from None
    return feed, None, DataSource.REPLAY, f"REPLAY of {', '.join(p.name for p in paths)}"


async def _live(settings: Settings, symbol_map: SymbolMap, health: FeedHealth, foundation: Foundation,
                stack: AsyncExitStack):
    from core.feeds.binance_history import RestHistory
    from core.feeds.binance_rest import BinanceRestClient
    from core.feeds.binance_ws import BinanceWsFeed

    endpoints = _endpoints(settings)
    feed = BinanceWsFeed(symbol_map, health, SystemClock(), endpoints=endpoints)
    probe = await feed.probe(timeout_s=5.0)
    if not probe.reachable:
        log.warning("Binance probe failed: %s", probe.detail)
        return None
    client = BinanceRestClient(foundation.clock, endpoints=endpoints)
    stack.push_async_callback(client.close)
    history = RestHistory(client, symbol_map, foundation.clock, cache_dir=settings.moneybot_data_dir / "klines")
    return feed, history, DataSource.LIVE, "LIVE (Binance)"


def _endpoints(settings: Settings) -> BinanceEndpoints:
    """The Binance base URLs from the settings (BINANCE_*_URL, YAML, or the defaults)."""
    return BinanceEndpoints(spot_ws_url=settings.binance_ws_url.rstrip("/"),
                            futures_ws_url=settings.binance_futures_ws_url.rstrip("/"),
                            spot_rest_url=settings.binance_rest_url.rstrip("/"),
                            futures_rest_url=settings.binance_futures_rest_url.rstrip("/"))


async def record_frames(settings: Settings, symbols: list[str], minutes: float, path: Path) -> int:
    from core.feeds.recording import record

    symbol_map = build_symbol_map(settings)
    count = await record(symbols, minutes, path, symbol_map=symbol_map, clock=SystemClock(),
                         endpoints=_endpoints(settings))
    print(f"recorded {count} frames to {path}")
    return 0
