"""Micro benchmark of the execution hot paths on real recorded BTCUSDT trade prices.

Run: .venv/bin/python -m bench.execution_bench  (from the repository root)
Prints microseconds per call for: PaperBroker.on_price with nothing open and with positions and
orders far from their triggers; PositionMonitor.on_price with a managed runner (paper sink, broker
quote, exit evaluation); exits.evaluate alone; risk.check_all with four symbols' correlations;
and Mt5Broker.place/close round trips against the in-memory fake terminal (worker thread hop).
"""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Callable

import numpy as np

from core.brokers.mt5 import Mt5Broker, Mt5Settings
from core.brokers.paper import PaperBroker, PaperParams
from core.execution import ContractSpec
from core.exits import ExitParams, ExitStage, ManagedPosition, evaluate
from core.models import Direction, OrderIntent, OrderType
from core.ports import FixedClock
from core.position_monitor import PositionEvent, PositionMonitor
from core.risk import RiskLimits, TradeCheck, check_all
from tests.brokers.fake_mt5 import FakeMt5, loader_for
from tests.paths import BINANCE_DATA


def load_prices() -> list[float]:
    path = BINANCE_DATA / "aggtrades" / "derived_aggtrades_BTCUSDT_20240808T2354-20240809T0005.csv"
    with path.open() as handle:
        return [float(row["price"]) for row in csv.DictReader(handle)]


def per_call_us(count: int, run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / count * 1e6


def paper_numbers(prices: list[float]) -> None:
    quotes: dict[str, tuple[float, float]] = {"BTCUSD": (prices[0], prices[0])}
    idle = PaperBroker(quotes.get, FixedClock(), None, PaperParams(spread_bps=1.0))

    def feed(broker: PaperBroker) -> None:
        for i, price in enumerate(prices):
            broker.on_price("BTCUSD", price, price, i)

    idle_us = per_call_us(len(prices), lambda: feed(idle))
    print(f"PaperBroker.on_price, nothing open:         {idle_us:6.2f} us")
    busy = PaperBroker(quotes.get, FixedClock(), None, PaperParams(spread_bps=1.0, starting_balance=1e9))
    low, high = min(prices), max(prices)
    for _ in range(3):
        asyncio.run(busy.place(OrderIntent("BTCUSD", Direction.LONG, 0.1, stop_loss=low - 500,
                                           take_profit=high + 500)))
    for price in (low - 1000, high + 1000):
        kind = OrderType.LIMIT if price < low else OrderType.STOP
        asyncio.run(busy.place(OrderIntent("BTCUSD", Direction.LONG, 0.1, order_type=kind, price=price)))
    busy_us = per_call_us(len(prices), lambda: feed(busy))
    print(f"PaperBroker.on_price, 3 positions 2 orders: {busy_us:6.2f} us")


def runner(price: float) -> ManagedPosition:
    """A runner whose stop (breakeven and trail included) stays far below the recorded prices."""
    return ManagedPosition(1, "BTCUSD", Direction.LONG, entry=price - 4500, stop=price - 4000,
                           targets=(price - 4400,), atr=150.0, volume=0.05, opened_ts_ms=0,
                           stage=ExitStage.RUNNER, targets_hit=1, best_price=price)


def monitor_numbers(prices: list[float]) -> None:
    quotes: dict[str, tuple[float, float]] = {"BTCUSD": (prices[0], prices[0])}
    clock = FixedClock()
    broker = PaperBroker(quotes.get, clock, None, PaperParams(spread_bps=1.0))
    asyncio.run(broker.place(OrderIntent("BTCUSD", Direction.LONG, 0.05, stop_loss=min(prices) - 1000)))
    seen: list[PositionEvent] = []

    async def record(event: PositionEvent) -> None:
        seen.append(event)

    async def feed() -> None:
        monitor = PositionMonitor(broker, record, clock=clock, price_sink=broker.on_price,
                                  params=lambda: ExitParams(trail_atr_multiple=20.0))
        monitor.manage(runner(prices[0]))
        for i, price in enumerate(prices):
            quotes["BTCUSD"] = (price, price)
            await monitor.on_price("BTCUSD", price, price, i)

    micros = per_call_us(len(prices), lambda: asyncio.run(feed()))
    print(f"PositionMonitor.on_price, 1 runner:         {micros:6.2f} us ({len(seen)} events)")
    state, params = runner(prices[0]), ExitParams()

    def decide() -> None:
        current = state
        for i, price in enumerate(prices):
            current = evaluate(current, price, price, i, params).state

    print(f"exits.evaluate:                             {per_call_us(len(prices), decide):6.2f} us")


def risk_numbers() -> None:
    generator = np.random.default_rng(7)
    closes = {s: 100 * np.exp(np.cumsum(generator.normal(0, 0.01, 501))) for s in ("A", "B", "C", "D")}
    spec = ContractSpec("A", digits=2, volume_min=0.01, volume_max=100.0, volume_step=0.01)
    check = TradeCheck(symbol="A", direction=Direction.LONG, confidence=80.0, entry=100.0, stop=98.0,
                       card_price=100.0, bid=99.99, ask=100.01, equity=10_000.0, spec=spec,
                       start_equity=10_000.0, closes=closes, quote_to_account=1.0)
    limits = RiskLimits()
    count = 2_000

    def run() -> None:
        for _ in range(count):
            check_all(check, limits)

    print(f"risk.check_all, 4 symbols x 100 returns:    {per_call_us(count, run):6.2f} us")


def mt5_numbers() -> None:
    fake = FakeMt5(balance=1e9)
    fake.add_symbol("EURUSD", bid=1.1, ask=1.1001)
    count = 300

    async def round_trips() -> None:
        broker = Mt5Broker(Mt5Settings(), module_loader=loader_for(fake))
        await broker.connect()
        for _ in range(count):
            fill = await broker.place(OrderIntent("EURUSD", Direction.LONG, 0.1))
            await broker.close(fill.ticket)
        await broker.disconnect()

    micros = per_call_us(count, lambda: asyncio.run(round_trips()))
    print(f"Mt5Broker place+close on the fake terminal: {micros:6.0f} us")


def main() -> None:
    prices = load_prices()
    print(f"{len(prices)} BTCUSDT trade prices, 2024-08-08/09")
    paper_numbers(prices)
    monitor_numbers(prices)
    risk_numbers()
    mt5_numbers()


if __name__ == "__main__":
    main()
