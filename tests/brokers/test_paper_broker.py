"""PaperBroker specifics: spread and slippage, pending triggers, SL/TP hits, restart from its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.brokers.paper import PaperBroker, PaperParams
from core.execution import FillReason
from core.models import Direction, OrderIntent, OrderType
from core.ports import BrokerError, FixedClock

T0 = 1_700_000_000_000


def paper(prices: dict[str, tuple[float, float]], state_path: Path | None = None, *, spread: float = 0.10,
          slippage_bps: float = 0.0, clock: FixedClock | None = None) -> PaperBroker:
    params = PaperParams(starting_balance=1_000.0, spread_bps=0.0, spread_abs_by_symbol={"BTCUSD": spread},
                         slippage_bps=slippage_bps)
    return PaperBroker(prices.get, clock or FixedClock(T0), state_path, params)


def buy(**changes: object) -> OrderIntent:
    fields: dict = dict(symbol="BTCUSD", direction=Direction.LONG, volume=2.0, client_id="")
    fields.update(changes)
    return OrderIntent(**fields)


async def test_a_mid_only_source_gets_the_configured_spread_and_slippage() -> None:
    broker = paper({"BTCUSD": (100.0, 100.0)}, slippage_bps=5.0)

    quote = await broker.quote("BTCUSD")
    long = await broker.place(buy())
    short = await broker.place(buy(direction=Direction.SHORT))

    assert (quote.bid, quote.ask) == pytest.approx((99.95, 100.05))
    assert long.price == pytest.approx(100.05 * 1.0005)
    assert short.price == pytest.approx(99.95 * 0.9995)


async def test_a_wider_real_spread_is_kept() -> None:
    broker = paper({"BTCUSD": (99.0, 101.0)})
    quote = await broker.quote("BTCUSD")
    assert (quote.bid, quote.ask) == (99.0, 101.0)


async def test_spread_in_bps_per_symbol_and_default() -> None:
    params = PaperParams(spread_bps=2.0, spread_bps_by_symbol={"ETHUSD": 10.0})
    broker = PaperBroker({"ETHUSD": (2000.0, 2000.0), "BTCUSD": (50_000.0, 50_000.0)}.get, FixedClock(T0),
                         None,
                         params)
    eth, btc = await broker.quote("ETHUSD"), await broker.quote("BTCUSD")
    assert eth.ask - eth.bid == pytest.approx(2.0)
    assert btc.ask - btc.bid == pytest.approx(10.0)


async def test_no_price_means_no_trade() -> None:
    broker = paper({})
    with pytest.raises(BrokerError, match="no price for BTCUSD") as refused:
        await broker.place(buy())
    assert refused.value.retryable


async def test_on_price_is_the_fallback_source() -> None:
    broker = PaperBroker(None, FixedClock(T0), None, PaperParams(spread_bps=0.0))
    broker.on_price("BTCUSD", 100.0, 100.2, T0)
    fill = await broker.place(buy())
    assert fill.price == 100.2


async def test_pending_orders_trigger_from_the_price_feed() -> None:
    prices = {"BTCUSD": (100.0, 100.0)}
    broker = paper(prices, slippage_bps=10.0)
    limit = await broker.place(buy(order_type=OrderType.LIMIT, price=99.0, stop_loss=97.0, client_id="L"))
    stop = await broker.place(buy(order_type=OrderType.STOP, price=101.0, client_id="S"))

    assert broker.on_price("BTCUSD", 99.5, 99.5, T0 + 1) == []  # ask 99.55: above the limit
    [limit_event] = broker.on_price("BTCUSD", 98.9, 98.9, T0 + 2)  # ask 98.95 <= 99: gap fill, better
    [stop_event] = broker.on_price("BTCUSD", 101.5, 101.5, T0 + 3)  # ask 101.55 >= 101: worse, plus slippage

    assert (limit_event.reason, limit_event.fill.ticket, limit_event.fill.price) == (
        FillReason.PENDING_TRIGGERED, limit.ticket, pytest.approx(98.95))
    opened = limit_event.fill
    assert (opened.kind, opened.ts_ms, opened.client_id) == ("open", T0 + 2, "L")
    assert stop_event.fill.ticket == stop.ticket
    assert stop_event.fill.price == pytest.approx(101.55 * 1.001)
    assert await broker.orders() == []
    positions = {p.ticket: p for p in await broker.positions()}
    assert positions[limit.ticket].stop_loss == 97.0
    assert (await broker.place(buy(client_id="L"))).price == pytest.approx(98.95)  # idempotent: the open fill


async def test_sell_limit_and_sell_stop_trigger_on_the_bid() -> None:
    broker = paper({"BTCUSD": (100.0, 100.0)}, spread=0.0)
    limit = await broker.place(buy(direction=Direction.SHORT, order_type=OrderType.LIMIT, price=101.0))
    stop = await broker.place(buy(direction=Direction.SHORT, order_type=OrderType.STOP, price=99.0))

    [up] = broker.on_price("BTCUSD", 101.2, 101.2, T0)
    [down] = broker.on_price("BTCUSD", 98.7, 98.7, T0)

    assert (up.fill.ticket, up.fill.price) == (limit.ticket, 101.2)
    assert (down.fill.ticket, down.fill.price) == (stop.ticket, 98.7)


async def test_stop_loss_fills_at_the_market_and_take_profit_at_its_price() -> None:
    broker = paper({"BTCUSD": (100.0, 100.0)}, spread=0.0, slippage_bps=10.0)
    long = await broker.place(buy(stop_loss=98.0, take_profit=105.0))
    short = await broker.place(buy(direction=Direction.SHORT, volume=1.0, stop_loss=103.0, take_profit=95.0))
    entry_long, entry_short = long.price, short.price  # 100.1 and 99.9 with 10 bps slippage

    assert broker.on_price("BTCUSD", 99.0, 99.0, T0) == []
    [stopped] = broker.on_price("BTCUSD", 97.5, 97.5, T0 + 1)  # gapped through 98: fills at 97.5 - slippage
    [target] = broker.on_price("BTCUSD", 94.0, 94.0, T0 + 2)

    assert (stopped.reason, stopped.fill.kind) == (FillReason.STOP_LOSS, "close")
    assert stopped.fill.price == pytest.approx(97.5 * 0.999)
    assert stopped.fill.realized_pnl == pytest.approx((97.5 * 0.999 - entry_long) * 2.0)
    assert (target.reason, target.fill.price) == (FillReason.TAKE_PROFIT, 95.0)
    assert target.fill.realized_pnl == pytest.approx(entry_short - 95.0)
    account = await broker.account()
    assert account.balance == pytest.approx(1_000.0 + stopped.fill.realized_pnl + target.fill.realized_pnl)
    assert broker.fills(since_ts_ms=T0 + 1) == [stopped.fill, target.fill]


async def test_prices_of_other_symbols_are_only_recorded() -> None:
    broker = paper({"BTCUSD": (100.0, 100.0)}, spread=0.0)
    await broker.place(buy(stop_loss=99.0))
    assert broker.on_price("ETHUSD", 1.0, 1.0, T0) == []
    assert len(await broker.positions()) == 1


async def test_margin_is_checked_against_equity() -> None:
    broker = paper({"BTCUSD": (100.0, 100.0)}, spread=0.0)
    await broker.place(buy(volume=900.0))  # margin 900 of 1000 at leverage 100
    with pytest.raises(BrokerError, match="not enough money.*free margin is 100.00"):
        await broker.place(buy(volume=200.0))


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "paper" / "state.json"
    prices = {"BTCUSD": (100.0, 100.0)}
    clock = FixedClock(T0)
    first = paper(prices, path, spread=0.0, clock=clock)
    opened = await first.place(buy(stop_loss=95.0, take_profit=110.0, client_id="appr-1"))
    pending = await first.place(buy(order_type=OrderType.LIMIT, price=90.0, client_id="appr-2"))
    prices["BTCUSD"] = (104.0, 104.0)
    partial = await first.close(opened.ticket, 0.5)

    second = paper(prices, path, spread=0.0, clock=clock)

    assert await second.positions() == await first.positions()
    assert await second.orders() == await first.orders()
    assert (await second.account()).balance == pytest.approx(1_000.0 + partial.realized_pnl)
    assert partial.realized_pnl == pytest.approx(2.0)
    again = await second.place(buy(client_id="appr-1"))
    assert again == opened
    newer = await second.place(buy(client_id="appr-3"))
    assert newer.ticket == pending.ticket + 1
    [event] = second.on_price("BTCUSD", 110.0, 110.0, T0 + 5)  # TP from the saved state still works
    assert event.reason is FillReason.TAKE_PROFIT and event.fill.ticket == opened.ticket
    assert second.fills() == [*first.fills(), newer, event.fill]
    assert list(path.parent.iterdir()) == [path]  # no temp files left behind


async def test_an_unreadable_state_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(BrokerError, match="state.json is unreadable"):
        paper({}, path)
