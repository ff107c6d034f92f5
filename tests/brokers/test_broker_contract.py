"""The Broker contract: the same tests against PaperBroker and Mt5Broker (over the fake terminal)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.brokers.mt5 import Mt5Broker
from core.models import Direction, OrderIntent, OrderType, PendingOrder, Position
from core.ports import BrokerError
from tests.brokers.harness import ASK, BALANCE, BID, Harness, mt5_harness, paper_harness

CONTRACT_SIZE = 100_000.0


@pytest.fixture(params=["paper", "mt5"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    h = paper_harness() if request.param == "paper" else await mt5_harness()
    yield h
    if isinstance(h.broker, Mt5Broker):
        await h.broker.disconnect()


def long_intent(**changes: object) -> OrderIntent:
    fields: dict = dict(symbol="EURUSD", direction=Direction.LONG, volume=0.10, stop_loss=1.09500,
                        take_profit=1.11000, client_id="appr-1")
    fields.update(changes)
    return OrderIntent(**fields)


async def test_market_long_fills_at_the_ask_with_its_stops(harness: Harness) -> None:
    fill = await harness.broker.place(long_intent())

    assert (fill.kind, fill.direction, fill.client_id) == ("open", Direction.LONG, "appr-1")
    assert fill.volume == 0.10
    assert fill.price == pytest.approx(ASK, abs=1e-9)
    [position] = await harness.broker.positions()
    assert position.ticket == fill.ticket
    assert (position.symbol, position.direction, position.client_id) == ("EURUSD", Direction.LONG, "appr-1")
    assert position.volume == pytest.approx(0.10)
    assert position.stop_loss == pytest.approx(1.09500)
    assert position.take_profit == pytest.approx(1.11000)


async def test_market_short_fills_at_the_bid(harness: Harness) -> None:
    fill = await harness.broker.place(long_intent(direction=Direction.SHORT, stop_loss=1.10500,
                                                  take_profit=1.09000))

    assert fill.price == pytest.approx(BID, abs=1e-9)
    [position] = await harness.broker.positions()
    assert position.direction is Direction.SHORT


async def test_quote_and_account_follow_the_market(harness: Harness) -> None:
    quote = await harness.broker.quote("EURUSD")
    assert (quote.bid, quote.ask) == pytest.approx((BID, ASK))
    await harness.broker.place(long_intent())
    harness.set_price(1.10110, 1.10120)

    account = await harness.broker.account()

    unrealized = (1.10110 - ASK) * 0.10 * CONTRACT_SIZE  # a long is marked at the bid
    assert account.balance == pytest.approx(BALANCE)
    assert account.equity == pytest.approx(BALANCE + unrealized, abs=0.01)
    [position] = await harness.broker.positions()
    assert position.unrealized_pnl == pytest.approx(unrealized, abs=0.01)


async def test_modify_replaces_both_stops_and_none_removes_one(harness: Harness) -> None:
    fill = await harness.broker.place(long_intent())

    await harness.broker.modify(fill.ticket, stop_loss=1.09800, take_profit=1.11500)
    [position] = await harness.broker.positions()
    assert (position.stop_loss, position.take_profit) == pytest.approx((1.09800, 1.11500))

    await harness.broker.modify(fill.ticket, stop_loss=1.09900, take_profit=None)
    [position] = await harness.broker.positions()
    assert position.stop_loss == pytest.approx(1.09900)
    assert position.take_profit is None


async def test_partial_then_full_close_realise_the_profit(harness: Harness) -> None:
    fill = await harness.broker.place(long_intent())
    harness.set_price(1.10200, 1.10210)

    partial = await harness.broker.close(fill.ticket, 0.04)

    assert (partial.kind, partial.ticket, partial.volume) == ("partial_close", fill.ticket, 0.04)
    assert partial.price == pytest.approx(1.10200)
    assert partial.realized_pnl == pytest.approx((1.10200 - ASK) * 0.04 * CONTRACT_SIZE, abs=0.01)
    [position] = await harness.broker.positions()
    assert position.volume == pytest.approx(0.06)

    harness.set_price(1.09900, 1.09910)
    final = await harness.broker.close(fill.ticket)

    assert (final.kind, final.volume) == ("close", pytest.approx(0.06))
    assert final.realized_pnl == pytest.approx((1.09900 - ASK) * 0.06 * CONTRACT_SIZE, abs=0.01)
    assert await harness.broker.positions() == []
    account = await harness.broker.account()
    assert account.balance == pytest.approx(BALANCE + partial.realized_pnl + final.realized_pnl, abs=0.01)


async def test_pending_orders_are_listed_and_cancelled(harness: Harness) -> None:
    limit = await harness.broker.place(long_intent(order_type=OrderType.LIMIT, price=1.09800,
                                                   take_profit=1.10500, client_id="appr-2"))
    stop = await harness.broker.place(long_intent(direction=Direction.SHORT, order_type=OrderType.STOP,
                                                  price=1.09700, stop_loss=1.10000, take_profit=None,
                                                  client_id="appr-3"))

    assert (limit.kind, stop.kind) == ("pending", "pending")
    orders = {o.ticket: o for o in await harness.broker.orders()}
    assert set(orders) == {limit.ticket, stop.ticket}
    pending_limit, pending_stop = orders[limit.ticket], orders[stop.ticket]
    assert (pending_limit.order_type, pending_limit.price) == (OrderType.LIMIT, pytest.approx(1.098))
    assert (pending_stop.direction, pending_stop.order_type) == (Direction.SHORT, OrderType.STOP)
    assert pending_limit.client_id == "appr-2"
    assert await harness.broker.positions() == []

    await harness.broker.cancel(limit.ticket)
    assert [o.ticket for o in await harness.broker.orders()] == [stop.ticket]
    with pytest.raises(BrokerError, match="not found"):
        await harness.broker.cancel(limit.ticket)


async def test_place_is_idempotent_by_client_id(harness: Harness) -> None:
    first = await harness.broker.place(long_intent(client_id="appr-9"))
    again = await harness.broker.place(long_intent(client_id="appr-9", volume=0.50))

    assert again.ticket == first.ticket
    assert again.volume == pytest.approx(0.10)
    assert len(await harness.broker.positions()) == 1
    found = await harness.broker.find_by_client_id("appr-9")
    assert isinstance(found, Position) and found.ticket == first.ticket
    assert await harness.broker.find_by_client_id("appr-unknown") is None


async def test_find_by_client_id_sees_pending_orders(harness: Harness) -> None:
    placed = await harness.broker.place(long_intent(order_type=OrderType.LIMIT, price=1.09800,
                                                    client_id="appr-p"))

    found = await harness.broker.find_by_client_id("appr-p")

    assert isinstance(found, PendingOrder) and found.ticket == placed.ticket


@pytest.mark.parametrize(("change", "words"), [
    ({"stop_loss": 1.10100}, "stop loss"),  # above the bid for a long
    ({"take_profit": 1.09000}, "take profit"),
    ({"volume": 0.001}, "minimum"),
    ({"volume": 0.0}, "positive"),
    ({"volume": 400.0}, "money"),
    ({"order_type": OrderType.LIMIT, "price": 1.10500}, "below"),  # a buy limit above the ask
    ({"order_type": OrderType.STOP, "price": 1.09000, "stop_loss": 1.08000}, "above"),
])
async def test_refusals_are_broker_errors_with_readable_messages(harness: Harness, change: dict,
                                                                 words: str) -> None:
    with pytest.raises(BrokerError, match=words) as refused:
        await harness.broker.place(long_intent(**change))

    assert refused.value.message == str(refused.value)
    assert await harness.broker.positions() == []
    assert await harness.broker.orders() == []


async def test_unknown_tickets_are_refused(harness: Harness) -> None:
    with pytest.raises(BrokerError, match="not found"):
        await harness.broker.close(424242)
    with pytest.raises(BrokerError, match="not found"):
        await harness.broker.modify(424242, stop_loss=1.0, take_profit=None)


async def test_closing_more_than_held_is_refused(harness: Harness) -> None:
    fill = await harness.broker.place(long_intent())

    with pytest.raises(BrokerError, match="holds"):
        await harness.broker.close(fill.ticket, 0.20)
    [position] = await harness.broker.positions()
    assert position.volume == pytest.approx(0.10)
