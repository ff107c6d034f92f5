"""Execution services: the broker (paper or MT5), price basis, approvals, signals, exits."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings
from core.approvals import ApprovalStore
from core.brokers.paper import PaperBroker, PaperParams, quote_source_from_ticks
from core.bus import EventBus
from core.evaluation import ContinuousEvaluator
from core.exits import ExitParams
from core.market.price_sync import PriceSync
from core.market.state import MarketState
from core.market.symbols import SymbolMap, default_specs
from core.money import MoneyService, lookup_from_ticks
from core.plan_sizing import SizingContext
from core.portfolio import Portfolio
from core.ports import Broker, BrokerError, Clock
from core.signals import ScreeningStage, SignalService
from core.trading import TradingService
from core.trading_state import TradingGuard
from core.wait_rechecks import WaitRechecks
from db.approvals import SqlApprovalStore
from db.journal import SqlTradingRecords

if TYPE_CHECKING:
    from bot.foundation import Foundation
    from bot.services import MarketBundle

log = logging.getLogger("moneybot.execution")
CRASH_ENV = "MONEYBOT_CRASH_AT"  # fault injection for the crash-safety tests: before_broker | after_broker


def build_money(foundation: Foundation, symbol_map: SymbolMap, market: MarketState) -> MoneyService:
    """Conversions into the account currency from the market's prices (and broker quotes noted on the way);
    every default symbol may serve as a rate, enabled or not."""
    specs = [*symbol_map.specs(), *default_specs(foundation.settings.broker_symbol_suffix)]
    # the market's clock: a replay's prices are fresh or stale on the recording's time
    return MoneyService(specs, market.clock, lookups=(lookup_from_ticks(market.tick),),
                        tunables=foundation.tunables)


def build_broker(settings: Settings, market: MarketState, clock: Clock, money: MoneyService) -> Broker:
    if settings.broker == "paper":
        return PaperBroker(quote_source_from_ticks(market.tick), clock,
                           state_path=settings.moneybot_data_dir / "paper_broker.json",
                           params=PaperParams(starting_balance=settings.paper_balance_usd), money=money)
    from core.brokers.mt5 import Mt5Broker
    from core.brokers.mt5_terminal import Mt5Settings

    return Mt5Broker(Mt5Settings(host=settings.mt5_host, port=settings.mt5_port, login=settings.mt5_login or None,
                                 password=settings.mt5_password, server=settings.mt5_server, path=settings.mt5_path,
                                 symbol_suffix=settings.broker_symbol_suffix), clock=clock, money=money)


def _crash_hook():
    point = os.environ.get(CRASH_ENV, "")

    def hook(name: str) -> None:
        if name == point:
            logging.getLogger("moneybot.crash").error("fault injection: exiting at %s", name)
            os._exit(86)

    return hook


@dataclass(frozen=True, slots=True)
class Execution:
    money: MoneyService
    broker: Broker
    price_sync: PriceSync
    store: SqlApprovalStore
    trading: TradingService
    portfolio: Portfolio
    signals: SignalService
    evaluator: ContinuousEvaluator
    wait_rechecks: WaitRechecks

    async def settle(self) -> list[str]:
        """After a restart: settle unconfirmed orders, re-read the broker's positions; notes for the admins."""
        notes = await self.trading.reconcile()
        await self.portfolio.monitor.sync()
        return notes


async def build_execution(foundation: Foundation, market: MarketBundle, bus: EventBus, stack: AsyncExitStack, *,
                          screening: Callable[[ApprovalStore, PriceSync], ScreeningStage] | None = None
                          ) -> Execution:
    settings, clock, tunables = foundation.settings, foundation.clock, foundation.tunables
    money = build_money(foundation, market.symbol_map, market.state)
    broker = build_broker(settings, market.state, clock, money)
    try:
        await broker.connect()
    except BrokerError as e:
        raise ConfigError(f"BROKER: {settings.broker} cannot connect: {e.message}") from None
    store = SqlApprovalStore(foundation.sessions)
    records = SqlTradingRecords(foundation.sessions)
    guard = TradingGuard(records, tunables, clock)
    await guard.load()
    symbol_map = market.symbol_map
    portfolio = Portfolio(broker=broker, store=store, records=records, clock=clock, bus=bus, money=money,
                          exit_params=tunables.binding(ExitParams, "exits"),
                          state_path=settings.moneybot_data_dir / "position_monitor.json",
                          price_digits=lambda symbol: symbol_map.spec(symbol).price_digits)
    price_sync = PriceSync.identity() if broker.capabilities.prices_from_feed else PriceSync()
    trading = TradingService(store=store, broker=broker, market=market.state, health=market.health,
                             price_sync=price_sync, guard=guard, tunables=tunables, clock=clock, bus=bus,
                             money=money, manage=portfolio.manage, crash_hook=_crash_hook())
    sizer = SizingContext(broker=broker, money=money)
    signals = SignalService(analysis=market.analysis, store=store, bus=bus, clock=clock, tunables=tunables,
                            precheck=trading.precheck, sizer=sizer,
                            screening=screening(store, price_sync) if screening is not None else None)
    stack.push_async_callback(signals.close)
    evaluator = ContinuousEvaluator(signals=signals, market=market.state, bus=bus, clock=clock, tunables=tunables,
                                    symbols=market.symbol_map.symbols())
    stack.push_async_callback(evaluator.close)

    def price_of(symbol: str) -> float | None:
        tick = market.state.tick(symbol)
        return tick.price if tick else None

    rechecks = WaitRechecks(trading=trading, signals=signals, bus=bus, price_of=price_of)
    return Execution(money, broker, price_sync, store, trading, portfolio, signals, evaluator, rechecks)

