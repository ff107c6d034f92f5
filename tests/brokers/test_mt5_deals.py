"""How a position closed, from its MT5 deals: the pure summary and the broker's read of the fake terminal."""

from __future__ import annotations

import pytest

from core.brokers.mt5 import Mt5Broker, Mt5Settings
from core.brokers.mt5_requests import closing_deals_from_mt5
from core.events import CloseReason
from core.models import Direction, OrderIntent
from tests.brokers.fake_mt5 import FakeMt5, loader_for

IN, OUT = 0, 1


def deal(ticket: int, order: int, entry: int, volume: float, price: float, profit: float, *, reason: int = 3,
         commission: float = 0.0, swap: float = 0.0, fee: float = 0.0, time_msc: int = 0, position: int = 7) -> dict:
    return dict(ticket=ticket, order=order, time=time_msc // 1000, time_msc=time_msc, type=0, entry=entry,
                magic=1, position_id=position, reason=reason, volume=volume, price=price, commission=commission,
                swap=swap, profit=profit, fee=fee, symbol="USDJPY", comment="", external_id="")


@pytest.mark.parametrize(("reason", "expected"), [
    (4, CloseReason.STOP_LOSS), (5, CloseReason.TAKE_PROFIT), (6, CloseReason.STOP_OUT), (0, CloseReason.MANUAL),
    (1, CloseReason.MANUAL), (2, CloseReason.MANUAL), (3, None), (7, None)])
def test_the_last_closing_deal_says_why(reason: int, expected: CloseReason | None) -> None:
    deals = [deal(1, 10, IN, 0.2, 150.0, 0.0), deal(2, 11, OUT, 0.2, 149.5, -66.67, reason=reason, time_msc=5)]
    closed = closing_deals_from_mt5(deals, 7)
    assert closed is not None and closed.reason is expected


def test_partial_then_server_stop_sums_every_deal() -> None:
    deals = [
        deal(1, 10, IN, 0.4, 150.000, 0.0, commission=-1.40, time_msc=1_000),
        deal(2, 11, OUT, 0.2, 150.500, 66.44, commission=-0.70, time_msc=2_000),  # our target 1
        deal(3, 12, OUT, 0.2, 150.000, 0.0, commission=-0.70, swap=-0.35, reason=4, time_msc=3_000),  # breakeven SL
        deal(4, 13, OUT, 0.1, 151.000, 9.0, position=8, time_msc=3_500),  # another position
    ]
    closed = closing_deals_from_mt5(deals, 7, time_offset_ms=500)
    assert closed is not None
    assert closed.pnl_account == pytest.approx(66.44 - 1.40 - 0.70 - 0.70 - 0.35)
    assert closed.final_pnl_account == pytest.approx(-0.70 - 0.35)
    assert (closed.commission_account, closed.swap_account) == (pytest.approx(-2.80), pytest.approx(-0.35))
    assert (closed.exit_price, closed.volume, closed.reason) == (150.000, 0.2, CloseReason.STOP_LOSS)
    assert (closed.close_ts_ms, closed.complete) == (2_500, True)


def test_no_closing_deal_yet_and_an_incomplete_history() -> None:
    assert closing_deals_from_mt5([deal(1, 10, IN, 0.4, 150.0, 0.0)], 7) is None
    assert closing_deals_from_mt5((), 7) is None
    partial = closing_deals_from_mt5([deal(1, 10, IN, 0.4, 150.0, 0.0), deal(2, 11, OUT, 0.2, 150.5, 66.4)], 7)
    assert partial is not None and not partial.complete


async def test_the_broker_reads_server_closes_from_the_fake_terminal() -> None:
    fake = FakeMt5(balance=50_000.0)
    fake.commission_per_lot = -7.0
    fake.add_symbol("USDJPY", bid=150.000, ask=150.010, digits=3)
    broker = Mt5Broker(Mt5Settings(magic=5), module_loader=loader_for(fake))
    await broker.connect()
    try:
        first = await broker.place(OrderIntent("USDJPY", Direction.LONG, 0.50, stop_loss=149.000))
        second = await broker.place(OrderIntent("USDJPY", Direction.SHORT, 0.30))
        assert await broker.closing_deals(first.ticket) is None  # still open
        fake.set_tick("USDJPY", 148.990, 149.000)
        fake.hit_stops()  # the long's stop loss
        fake.close_by_server(second.ticket, fake.DEAL_REASON_SO, swap=-2.5)  # a margin stop-out at the ask
        stopped_out = await broker.closing_deals(first.ticket)
        margin_call = await broker.closing_deals(second.ticket)
    finally:
        await broker.disconnect()

    mid = (148.990 + 149.000) / 2
    assert stopped_out is not None and stopped_out.reason is CloseReason.STOP_LOSS
    assert stopped_out.exit_price == 149.000
    assert stopped_out.pnl_account == pytest.approx(round((149.000 - 150.010) * 50_000 / mid, 2) - 2 * 3.5)
    assert margin_call is not None and margin_call.reason is CloseReason.STOP_OUT
    assert margin_call.pnl_account == pytest.approx(round((150.000 - 149.000) * 30_000 / mid, 2) - 2 * 2.1 - 2.5)
