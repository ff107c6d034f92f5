"""Execution services: the broker (paper or MT5), price basis, approvals, exits and their jobs."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import ConfigError, Settings
from core.brokers.paper import PaperBroker, PaperParams, quote_source_from_ticks
from core.exits import ExitParams
from core.market.price_sync import PriceSync
from core.market.state import MarketState
from core.market.symbols import SymbolMap, default_specs
from core.money import MoneyService, lookup_from_ticks
from core.portfolio import Portfolio
from core.ports import Broker, BrokerError, Notifier
from core.position_monitor import PositionMonitor
from core.trading import TradingService
from core.trading_state import TradingGuard
from core.wait_rechecks import CardTools
from db.approvals import SqlApprovalStore
from db.journal import SqlTradingRecords
from jobs import market as market_jobs
from jobs import trading as trading_jobs

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("moneybot.execution")
CRASH_ENV = "MONEYBOT_CRASH_AT"  # fault injection for the crash-safety tests: before_broker | after_broker


def build_money(settings: Settings, symbol_map: SymbolMap, market: MarketState, runtime: Runtime) -> MoneyService:
    """Conversions into the account currency from the market's prices (and broker quotes noted on the way);
    every default symbol may serve as a rate, enabled or not."""
    specs = [*symbol_map.specs(), *default_specs(settings.broker_symbol_suffix)]
    return MoneyService(specs, runtime.clock, lookups=(lookup_from_ticks(market.tick),), tunables=runtime.tunables)


def build_broker(settings: Settings, market: MarketState, runtime: Runtime, money: MoneyService) -> Broker:
    if settings.broker == "paper":
        return PaperBroker(quote_source_from_ticks(market.tick), runtime.clock,
                           state_path=settings.moneybot_data_dir / "paper_broker.json",
                           params=PaperParams(starting_balance=settings.paper_balance_usd), money=money)
    from core.brokers.mt5 import Mt5Broker
    from core.brokers.mt5_terminal import Mt5Settings

    return Mt5Broker(Mt5Settings(host=settings.mt5_host, port=settings.mt5_port, login=settings.mt5_login or None,
                                 password=settings.mt5_password, server=settings.mt5_server, path=settings.mt5_path,
                                 symbol_suffix=settings.broker_symbol_suffix), clock=runtime.clock, money=money)


def _crash_hook():
    point = os.environ.get(CRASH_ENV, "")

    def hook(name: str) -> None:
        if name == point:
            logging.getLogger("moneybot.crash").error("fault injection: exiting at %s", name)
            os._exit(86)

    return hook


async def start_execution(runtime: Runtime) -> None:
    settings, clock, tunables = runtime.settings, runtime.clock, runtime.tunables
    market: MarketState = runtime.services["market"]
    money = build_money(settings, runtime.services["symbol_map"], market, runtime)
    broker = build_broker(settings, market, runtime, money)
    try:
        await broker.connect()
    except BrokerError as e:
        raise ConfigError(f"BROKER: {settings.broker} cannot connect: {e.message}") from None
    store = SqlApprovalStore(runtime.sessions)
    records = SqlTradingRecords(runtime.sessions)
    guard = TradingGuard(records, tunables, clock)
    await guard.load()
    symbol_map = runtime.services["symbol_map"]
    portfolio = Portfolio(broker=broker, store=store, records=records, clock=clock,
                          contract_spec=broker.contract_spec, money=money,
                          price_digits=lambda symbol: symbol_map.spec(symbol).price_digits)
    price_sink = broker.on_price if isinstance(broker, PaperBroker) else None
    portfolio.monitor = PositionMonitor(broker, portfolio.on_event, clock=clock,
                                        params=ExitParams.from_values(tunables.snapshot()), price_sink=price_sink,
                                        state_path=settings.moneybot_data_dir / "position_monitor.json")
    price_sync = PriceSync.identity() if isinstance(broker, PaperBroker) else PriceSync()
    trading = TradingService(store=store, broker=broker, market=market, health=runtime.services["feed_health"],
                             price_sync=price_sync, guard=guard, tunables=tunables, clock=clock,
                             contract_spec=broker.contract_spec, money=money, manage=portfolio.manage,
                             crash_hook=_crash_hook())
    runtime.services.update(trading=trading, portfolio=portfolio, broker=broker, price_sync=price_sync, money=money)
    runtime.pending_notes.extend(await trading.reconcile())
    await portfolio.monitor.sync()


def start_jobs(runtime: Runtime, notifier: Notifier, card_tools: CardTools) -> AsyncIOScheduler:
    """APScheduler jobs on the bot's loop; each is a thin call into jobs/ with its dependencies."""
    services = runtime.services
    trading: TradingService = services["trading"]
    portfolio: Portfolio = services["portfolio"]
    market: MarketState = services["market"]
    scheduler = AsyncIOScheduler(timezone="UTC")
    every: list[tuple[Any, float, dict[str, Any]]] = [
        (trading_jobs.expire_cards, 5, {"trading": trading, "notifier": notifier}),
        (trading_jobs.recheck_waiting_cards, 10, {"trading": trading, "tools": card_tools, "notifier": notifier,
                                                  "market": market}),
        (trading_jobs.check_daily_loss, 30, {"trading": trading, "notifier": notifier,
                                             "admin_ids": runtime.settings.admin_ids}),
        (trading_jobs.advance_market, 1, {"market": market}),
    ]
    if services.get("candle_repairer") is not None:  # HTF candles refreshed from REST on close, gaps repaired
        every.append((market_jobs.repair_candles, 5, {"repairer": services["candle_repairer"]}))
    if isinstance(portfolio.broker, PaperBroker):
        every.append((trading_jobs.feed_prices_to_positions, 1, {"portfolio": portfolio, "market": market}))
    else:
        every.append((trading_jobs.poll_positions, 2, {"portfolio": portfolio}))
        # the MT5 price basis: a pair every second from the first second, so EXECUTE can trade soon after start
        every.append((trading_jobs.record_broker_quotes, 1, {"price_sync": services["price_sync"],
                                                             "broker": portfolio.broker, "market": market}))
    start_now = {trading_jobs.record_broker_quotes}
    for func, seconds, kwargs in every:
        first = {"next_run_time": datetime.now(UTC)} if func in start_now else {}
        scheduler.add_job(func, "interval", seconds=seconds, kwargs=kwargs, max_instances=1, coalesce=True,
                          misfire_grace_time=30, id=func.__name__, **first)
    scheduler.start()
    return scheduler
