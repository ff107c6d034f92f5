"""The trading path of ``bot.execution.start_execution`` with ``BROKER=mt5``, on the fake terminal.

The runtime's market, feed health, database and settings are real (the seeded simulator); only the
MetaTrader5 module is the fake. Prices are quoted identically by the fake and the simulated feed,
so the plan needs no basis translation.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.execution import build_money
from core.brokers.mt5 import Mt5Broker, Mt5Settings
from core.exits import ExitParams
from core.market.price_sync import PriceSync
from core.money import MoneyService
from core.portfolio import Portfolio
from core.position_monitor import PositionMonitor
from core.trading import TradingService
from core.trading_state import TradingGuard
from db.approvals import SqlApprovalStore
from db.journal import SqlTradingRecords
from tests.brokers.fake_mt5 import FakeMt5, loader_for

MAGIC = 4242
DIGITS = {"USDJPY": 3, "GBPJPY": 3, "EURJPY": 3, "EURUSD": 5, "GBPUSD": 5, "XAUUSD": 2, "BTCUSD": 2}
CONTRACT = {"XAUUSD": 100.0, "BTCUSD": 1.0}


@dataclass
class Mt5Path:
    fake: FakeMt5
    broker: Mt5Broker
    trading: TradingService
    portfolio: Portfolio
    monitor: PositionMonitor
    money: MoneyService


def quote_like_the_market(fake: FakeMt5, runtime, symbols: list[str]) -> None:
    """The fake terminal quotes ``symbols`` at the simulated market's bid/ask, at the clock's time."""
    market = runtime.services.market
    fake.ts_ms = runtime.clock.now_ms()
    for symbol in symbols:
        info = market.price_info(symbol)
        bid = round(info.bid if info.bid is not None else info.price, DIGITS[symbol])
        ask = round(info.ask if info.ask is not None else info.price, DIGITS[symbol])
        if symbol in fake.symbols:
            fake.set_tick(symbol, bid, ask)
        else:
            fake.add_symbol(symbol, bid=bid, ask=ask, digits=DIGITS[symbol],
                            contract_size=CONTRACT.get(symbol, 100_000.0))


async def mt5_path(runtime, fake: FakeMt5) -> Mt5Path:
    """The MT5 trading path on the runtime's market, database and event bus (its pushes reach the chat)."""
    clock, tunables, services = runtime.clock, runtime.tunables, runtime.services
    money = build_money(runtime.foundation, services.symbol_map, services.market)
    broker = Mt5Broker(Mt5Settings(magic=MAGIC), module_loader=loader_for(fake), clock=clock, money=money)
    await broker.connect()
    store, records = SqlApprovalStore(runtime.sessions), SqlTradingRecords(runtime.sessions)
    guard = TradingGuard(records, tunables, clock)
    await guard.load()
    portfolio = Portfolio(broker=broker, store=store, records=records, clock=clock, bus=services.bus, money=money,
                          exit_params=tunables.binding(ExitParams, "exits"))
    trading = TradingService(store=store, broker=broker, market=services.market, health=services.feed_health,
                             price_sync=PriceSync.identity(), guard=guard, tunables=tunables, clock=clock,
                             bus=services.bus, money=money, manage=portfolio.manage)
    return Mt5Path(fake, broker, trading, portfolio, portfolio.monitor, money)
