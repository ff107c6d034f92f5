"""Scripted price paths through the position monitor and a real broker adapter."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from core.brokers.mt5 import Mt5Broker, Mt5Settings
from core.brokers.paper import PaperBroker, PaperParams
from core.exits import ExitParams, ExitStage, ManagedPosition
from core.models import Direction, OrderIntent, OrderType
from core.ports import FixedClock
from core.position_monitor import EventKind, PositionEvent, PositionMonitor
from tests.brokers.fake_mt5 import FakeMt5, loader_for
from tests.paths import BINANCE_DATA

T0 = 1_700_000_000_000
BALANCE = 10_000.0


class Events:
    def __init__(self) -> None:
        self.seen: list[PositionEvent] = []

    async def __call__(self, event: PositionEvent) -> None:
        self.seen.append(event)

    def kinds(self) -> list[tuple[EventKind, str]]:
        return [(e.kind, e.reason) for e in self.seen]


def paper_setup(spread: float = 0.0, slippage_bps: float = 0.0, state_path: Path | None = None,
                params: ExitParams | None = None):
    prices: dict[str, tuple[float, float]] = {}
    clock = FixedClock(T0)
    broker = PaperBroker(prices.get, clock, None, PaperParams(
        starting_balance=BALANCE, spread_bps=0.0, spread_abs_by_symbol={"BTCUSD": spread, "ETHUSD": spread},
        slippage_bps=slippage_bps))
    events = Events()
    monitor = PositionMonitor(broker, events, clock=clock, price_sink=broker.on_price, state_path=state_path,
                              params=(lambda: params) if params else None)
    return prices, clock, broker, events, monitor


def stop_moves(events: Events) -> list[float]:
    """The new stops, read from the messages the trader gets ("...: stop moved to 102 (trailing)")."""
    moved = [e.text for e in events.seen if e.kind is EventKind.STOP_MOVED]
    return [float(text.split("stop moved to ")[1].split(" ")[0]) for text in moved]


async def walk(monitor: PositionMonitor, prices: dict, clock: FixedClock, symbol: str,
               mids: Iterable[float]) -> None:
    for mid in mids:
        clock.advance(1_000)
        prices[symbol] = (mid, mid)
        await monitor.on_price(symbol, mid, mid, clock.now_ms())


async def test_long_tp1_then_breakeven_then_trailing_exit_with_exact_pnl() -> None:
    prices, clock, broker, events, monitor = paper_setup()
    prices["BTCUSD"] = (100.0, 100.0)
    fill = await broker.place(OrderIntent("BTCUSD", Direction.LONG, 2.0, stop_loss=95.0, take_profit=125.0,
                                          client_id="appr-1"))
    monitor.manage(ManagedPosition(fill.ticket, "BTCUSD", Direction.LONG, entry=fill.price, stop=95.0,
                                   targets=(105.0, 115.0, 125.0), atr=3.0, volume=fill.volume,
                                   opened_ts_ms=fill.ts_ms, take_profit=125.0))

    await walk(monitor, prices, clock, "BTCUSD", [101.0, 105.0, 106.0, 108.0, 110.0, 110.2, 109.0, 103.5])

    assert events.kinds() == [
        (EventKind.PARTIAL_CLOSE, "target 1"), (EventKind.STOP_MOVED, "breakeven"),
        (EventKind.STOP_MOVED, "trailing"), (EventKind.STOP_MOVED, "trailing"),
        (EventKind.CLOSED, "trailing stop")]  # the broker's stop, trailed into profit: not a "stop loss"
    assert stop_moves(events) == [100.15, 102.0, 104.0]
    partial, final = events.seen[0].fill, events.seen[-1].fill
    assert partial is not None and final is not None
    assert (partial.volume, partial.price, partial.realized_pnl) == (1.0, 105.0, pytest.approx(5.0))
    assert (final.volume, final.price, final.realized_pnl) == (1.0, 103.5, pytest.approx(3.5))
    assert (await broker.account()).balance == pytest.approx(BALANCE + 5.0 + 3.5)
    assert await broker.positions() == [] and monitor.managed() == []
    assert events.seen[0].text == "BTCUSD long #1: target 1 hit, closed 1 at 105 (+5.00); 1 left"
    assert events.seen[-1].text == "BTCUSD long #1: closed 1 at 103.5 by trailing stop (+3.50)"


async def test_short_with_spread_and_slippage_through_three_targets_path() -> None:
    prices, clock, broker, events, monitor = paper_setup(spread=0.2, slippage_bps=10.0)
    prices["ETHUSD"] = (200.0, 200.0)
    fill = await broker.place(OrderIntent("ETHUSD", Direction.SHORT, 1.0, stop_loss=205.0, take_profit=185.0))
    entry = 199.9 * (1 - 0.001)  # bid 199.9 less 10 bps
    assert fill.price == pytest.approx(entry)
    monitor.manage(ManagedPosition(fill.ticket, "ETHUSD", Direction.SHORT, entry=fill.price, stop=205.0,
                                   targets=(195.0, 190.0, 185.0), atr=2.0, volume=1.0,
                                   opened_ts_ms=fill.ts_ms,
                                   take_profit=185.0))

    await walk(monitor, prices, clock, "ETHUSD", [195.2, 194.8, 193.0, 189.9, 191.0, 194.5])

    # a short closes at the ask (mid + 0.1) plus 10 bps slippage; the paper stop fills the same way
    t1, t2, stopped = 194.9 * 1.001, 190.0 * 1.001, 194.6 * 1.001
    expected = [(0.5, t1, (entry - t1) * 0.5), (0.25, t2, (entry - t2) * 0.25),
                (0.25, stopped, (entry - stopped) * 0.25)]
    fills = [e.fill for e in events.seen if e.fill is not None]
    assert [(f.volume, f.price, f.realized_pnl) for f in fills] == [
        (v, pytest.approx(p), pytest.approx(pnl)) for v, p, pnl in expected]
    assert events.kinds() == [
        (EventKind.PARTIAL_CLOSE, "target 1"), (EventKind.STOP_MOVED, "trailing"),
        (EventKind.STOP_MOVED, "trailing"),
        (EventKind.PARTIAL_CLOSE, "target 2"), (EventKind.STOP_MOVED, "trailing"),
        (EventKind.CLOSED, "trailing stop")]
    assert stop_moves(events) == pytest.approx([194.9 + 4.0, 193.1 + 4.0, 190.0 + 4.0])
    assert (await broker.account()).balance == pytest.approx(BALANCE + sum(pnl for *_, pnl in expected))


async def test_pending_order_is_managed_once_it_fills() -> None:
    prices, clock, broker, events, monitor = paper_setup()
    prices["BTCUSD"] = (100.0, 100.0)
    placed = await broker.place(OrderIntent("BTCUSD", Direction.LONG, 1.0, order_type=OrderType.LIMIT,
                                            price=98.0,
                                            stop_loss=94.0))
    monitor.manage(ManagedPosition(placed.ticket, "BTCUSD", Direction.LONG, entry=98.0, stop=94.0,
                                   targets=(101.0,), atr=1.0, volume=1.0, opened_ts_ms=0), pending=True)

    await walk(monitor, prices, clock, "BTCUSD", [102.0, 97.5, 101.0])

    assert events.kinds()[:2] == [(EventKind.OPENED, "pending_triggered"),
                                  (EventKind.PARTIAL_CLOSE, "target 1")]
    [managed] = monitor.managed()
    assert (managed.entry, managed.volume, managed.stage) == (97.5, 0.5, ExitStage.RUNNER)


async def test_time_stop_closes_a_stalled_trade() -> None:
    prices, clock, broker, events, monitor = paper_setup(params=ExitParams(time_stop_minutes=1))
    prices["BTCUSD"] = (100.0, 100.0)
    fill = await broker.place(OrderIntent("BTCUSD", Direction.LONG, 1.0, stop_loss=95.0))
    monitor.manage(ManagedPosition(fill.ticket, "BTCUSD", Direction.LONG, entry=100.0, stop=95.0,
                                   targets=(105.0,), atr=1.0, volume=1.0, opened_ts_ms=fill.ts_ms))

    await walk(monitor, prices, clock, "BTCUSD", [100.5] * 59)
    assert events.seen == []
    await walk(monitor, prices, clock, "BTCUSD", [99.0])

    assert events.kinds() == [(EventKind.CLOSED, "time stop")]
    assert events.seen[0].fill is not None and events.seen[0].fill.realized_pnl == pytest.approx(-1.0)


async def test_managed_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "monitor.json"
    prices, clock, broker, events, monitor = paper_setup(state_path=path)
    prices["BTCUSD"] = (100.0, 100.0)
    fill = await broker.place(OrderIntent("BTCUSD", Direction.LONG, 2.0, stop_loss=95.0))
    monitor.manage(ManagedPosition(fill.ticket, "BTCUSD", Direction.LONG, entry=100.0, stop=95.0,
                                   targets=(105.0, 115.0), atr=3.0, volume=2.0, opened_ts_ms=fill.ts_ms))
    await walk(monitor, prices, clock, "BTCUSD", [105.0])

    restarted = PositionMonitor(broker, events, clock=clock, price_sink=broker.on_price, state_path=path)

    assert restarted.managed() == monitor.managed()
    assert restarted.managed()[0].stage is ExitStage.RUNNER


async def test_real_btc_seconds_keep_the_books_consistent() -> None:
    """A real BTCUSDT 1s path (2024-08-08/09) through paper + monitor: every fill adds up."""
    closes = np.loadtxt(BINANCE_DATA / "klines" / "derived_spot_BTCUSDT_1s_20240808T2354-20240809T0005.csv",
                        delimiter=",", skiprows=1, usecols=4)
    prices, clock, broker, events, monitor = paper_setup(spread=1.0, slippage_bps=0.5)
    start = float(closes[0])
    prices["BTCUSD"] = (start, start)
    atr = 15.0
    fill = await broker.place(OrderIntent("BTCUSD", Direction.LONG, 0.1, stop_loss=start - 3 * atr))
    monitor.manage(ManagedPosition(fill.ticket, "BTCUSD", Direction.LONG, entry=fill.price,
                                   stop=start - 3 * atr,
                                   targets=(start + atr, start + 2 * atr, start + 3 * atr), atr=atr,
                                   volume=0.1,
                                   opened_ts_ms=fill.ts_ms))

    await walk(monitor, prices, clock, "BTCUSD", closes[1:].tolist())

    fills = [e.fill for e in events.seen if e.fill is not None]
    open_volume = sum(p.volume for p in await broker.positions())
    assert sum(f.volume for f in fills) + open_volume == pytest.approx(0.1)
    assert (await broker.account()).balance == pytest.approx(BALANCE + sum(f.realized_pnl for f in fills))
    for f in fills:
        assert f.realized_pnl == pytest.approx((f.price - fill.price) * f.volume)
    stops = stop_moves(events)
    assert stops == sorted(stops)  # the stop only ever rises for a long


# ---------------------------------------------------------------------------- MT5


async def mt5_setup(fake: FakeMt5):
    fake.add_symbol("XAUUSD", bid=2000.00, ask=2000.20, digits=2, contract_size=100.0)
    clock = FixedClock(T0)
    broker = Mt5Broker(Mt5Settings(magic=9), module_loader=loader_for(fake), clock=clock)
    await broker.connect()
    events = Events()
    return clock, broker, events, PositionMonitor(broker, events, clock=clock, retry_after_s=10.0)


async def test_mt5_exits_go_to_the_server_as_closes_and_sltp_changes() -> None:
    fake = FakeMt5(balance=100_000.0)
    clock, broker, events, monitor = await mt5_setup(fake)
    try:
        fill = await broker.place(OrderIntent("XAUUSD", Direction.LONG, 0.10, stop_loss=1990.0,
                                              take_profit=2030.0))
        monitor.manage(ManagedPosition(fill.ticket, "XAUUSD", Direction.LONG, entry=fill.price, stop=1990.0,
                                       targets=(2010.0, 2020.0, 2030.0), atr=6.0, volume=0.10,
                                       opened_ts_ms=fill.ts_ms, take_profit=2030.0, volume_step=0.01,
                                       volume_min=0.01))
        for bid in (2005.0, 2010.0, 2016.0):
            fake.set_tick("XAUUSD", bid, bid + 0.2)
            await monitor.poll()
        [position] = await broker.positions()
        fake.positions.clear()  # the server's stop loss closed it
        await monitor.poll()
    finally:
        await broker.disconnect()

    assert events.kinds() == [(EventKind.PARTIAL_CLOSE, "target 1"), (EventKind.STOP_MOVED, "breakeven"),
                              (EventKind.STOP_MOVED, "trailing"), (EventKind.CLOSED, "closed by the broker")]
    sltp = [(r["sl"], r["tp"]) for r in fake.requests if r["action"] == fake.TRADE_ACTION_SLTP]
    assert sltp == [(2000.50, 2030.0), (2004.0, 2030.0)]  # entry 2000.20 + 0.05 ATR; then 2016 - 2 ATR
    assert (position.volume, position.stop_loss) == (0.05, 2004.0)
    assert events.seen[0].fill is not None
    assert events.seen[0].fill.realized_pnl == pytest.approx((2010.0 - 2000.20) * 0.05 * 100)
    assert monitor.managed() == []


async def test_a_refused_exit_is_reported_kept_and_retried_later() -> None:
    fake = FakeMt5(balance=100_000.0)
    clock, broker, events, monitor = await mt5_setup(fake)
    try:
        fill = await broker.place(OrderIntent("XAUUSD", Direction.LONG, 0.10, stop_loss=1990.0))
        monitor.manage(ManagedPosition(fill.ticket, "XAUUSD", Direction.LONG, entry=fill.price, stop=1990.0,
                                       targets=(2010.0,), atr=6.0, volume=0.10, opened_ts_ms=fill.ts_ms,
                                       volume_step=0.01, volume_min=0.01))
        fake.set_tick("XAUUSD", 2010.0, 2010.2)
        fake.fail_next(10018)
        await monitor.poll()
        errors = list(events.seen)
        clock.advance(5_000)
        await monitor.poll()  # inside the retry delay: nothing sent
        sent_before_retry = len(fake.requests)
        clock.advance(6_000)
        await monitor.poll()
    finally:
        await broker.disconnect()

    assert [(e.kind, e.reason) for e in errors] == [(EventKind.ERROR, "target 1")]
    assert "market is closed" in errors[0].text and "retrying in 10 s" in errors[0].text
    assert sent_before_retry == 2  # the open and the refused close; nothing during the delay
    assert events.kinds()[1:] == [(EventKind.PARTIAL_CLOSE, "target 1"), (EventKind.STOP_MOVED, "breakeven")]
    [managed] = monitor.managed()
    assert (managed.volume, managed.stage) == (0.05, ExitStage.RUNNER)
