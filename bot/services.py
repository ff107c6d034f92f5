"""Market data and analysis services: which feed, where history comes from, and their lifecycle."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings
from core.analysis_service import AnalysisService
from core.feeds.binance_endpoints import BinanceEndpoints
from core.market.candle_repair import CandleRepairer
from core.market.health import FeedHealth, HealthParams
from core.market.state import MarketState, MarketStateParams
from core.market.symbols import SymbolMap, default_specs
from core.models import HTF_INTERVALS, DataSource, Role
from core.ports import Clock, HistoryProvider, MarketFeed, SystemClock

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from core.feeds.simulator import SimulatedFeed

log = logging.getLogger("moneybot.market")
HISTORY_LIMIT = {"1h": 1000, "4h": 1000, "1d": 1000, "3d": 500, "1w": 400, "1M": 120}


def build_symbol_map(settings: Settings) -> SymbolMap:
    specs = {s.symbol: s for s in default_specs(settings.broker_symbol_suffix)}
    unknown = [s for s in settings.symbol_list if s not in specs]
    if unknown:
        raise ConfigError(f"SYMBOLS: {', '.join(unknown)} not known; allowed: {', '.join(specs)}")
    return SymbolMap([specs[s] for s in settings.symbol_list])


async def start_services(runtime: Runtime) -> None:
    """Build the market feed, state, history and analysis; start the feed; register services."""
    settings, tunables = runtime.settings, runtime.tunables
    clock = _data_clock(settings, runtime.clock)  # a replay's ages and freshness are on the recording's clock
    symbol_map = build_symbol_map(settings)
    health = FeedHealth(clock, HealthParams.from_values(tunables), symbol_resolver=symbol_map.from_binance)
    feed, history, source, label = await _choose_feed(settings, symbol_map, health, runtime, clock)
    market = MarketState(symbol_map, clock, source, health=health,
                         params=MarketStateParams.from_values(tunables,
                                                              record_messages=source is DataSource.SIMULATED))
    feed.subscribe(market.apply)
    if history is not None:
        await load_history(market, history, symbol_map.symbols())
    if source is DataSource.SIMULATED:
        catch_up_simulator(feed, clock)
    await feed.start()
    runtime.stack.push_async_callback(feed.stop)
    done = getattr(feed, "done", None)
    if source is DataSource.REPLAY and getattr(feed, "speed", 1.0) is None and not getattr(feed, "loop", False):
        await done.wait()  # REPLAY_SPEED=max: serve the recording's final state from the first message
    runtime.data_source_label = label
    runtime.services.update(
        symbol_map=symbol_map, market=market, feed_health=health, market_feed=feed, history=history,
        analysis_service=AnalysisService(market, symbol_map, tunables, clock), chart_lock=asyncio.Lock(),
        candle_repairer=_candle_repairer(market, history, source, clock, tunables))
    from bot.execution import start_execution

    await start_execution(runtime)


async def attach_notifier(runtime: Runtime, bot) -> None:
    """Once the bot exists: the notifier for pushed messages, the scheduled jobs, pending notes."""
    from bot.execution import start_jobs
    from bot.notifier import TelegramNotifier
    from core.wait_rechecks import CardTools
    from handlers.analysis import card_for
    from handlers.trading import signal_buttons

    services = runtime.services
    if "portfolio" not in services:
        return
    notifier = TelegramNotifier(bot)
    services["portfolio"].notifier = notifier
    symbol_map = services["symbol_map"]
    tools = CardTools(analyse=services["analysis_service"].analyse,
                      render=lambda analysis: card_for(analysis, symbol_map), buttons=signal_buttons)
    services["notifier"] = notifier
    services["card_tools"] = tools
    if runtime.run_jobs:
        scheduler = start_jobs(runtime, notifier, tools)
        runtime.stack.callback(scheduler.shutdown, wait=False)
    admins = [u.telegram_id for u in runtime.users.all() if u.role is Role.ADMIN]
    for note in runtime.pending_notes:
        for admin in admins:
            await notifier.send(admin, "⚠️ " + note)
    runtime.pending_notes.clear()


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


async def _choose_feed(settings: Settings, symbol_map: SymbolMap, health: FeedHealth, runtime: Runtime,
                       clock: Clock) -> tuple[MarketFeed, HistoryProvider | None, DataSource, str]:
    mode = settings.market_feed
    if mode.startswith("replay:"):
        return _replay(settings, symbol_map, health, mode.split(":", 1)[1], clock)
    if mode == "sim":
        return _simulated(settings, symbol_map, runtime, "SIMULATED")
    live = await _live(settings, symbol_map, health, runtime)
    if live is not None:
        return live
    if mode == "live":
        raise ConfigError("MARKET_FEED: live, but Binance cannot be reached; use auto or sim to run offline")
    log.warning("Binance is unreachable: falling back to the SIMULATED market")
    return _simulated(settings, symbol_map, runtime, "SIMULATED (Binance unreachable at start)")


def _simulated(settings: Settings, symbol_map: SymbolMap, runtime: Runtime, label: str):
    from core.feeds.sim_params import SimParams
    from core.feeds.simulator import SimulatedFeed

    tunables = runtime.tunables
    feed = SimulatedFeed(symbol_map, seed=settings.sim_seed, clock=runtime.clock, speed=tunables["sim.speed"],
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


async def _live(settings: Settings, symbol_map: SymbolMap, health: FeedHealth, runtime: Runtime):
    from core.feeds.binance_history import RestHistory
    from core.feeds.binance_rest import BinanceRestClient
    from core.feeds.binance_ws import BinanceWsFeed

    endpoints = _endpoints(settings)
    feed = BinanceWsFeed(symbol_map, health, SystemClock(), endpoints=endpoints)
    probe = await feed.probe(timeout_s=5.0)
    if not probe.reachable:
        log.warning("Binance probe failed: %s", probe.detail)
        return None
    client = BinanceRestClient(runtime.clock, endpoints=endpoints)
    runtime.stack.push_async_callback(client.close)
    history = RestHistory(client, symbol_map, runtime.clock, cache_dir=settings.moneybot_data_dir / "klines")
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
