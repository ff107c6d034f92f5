"""EXECUTE on yen pairs through the real trading path sizes 1% of equity in dollars (paper and MT5).

Expected sizes are computed here from first principles: 1% of the dollar equity, divided by the
dollar loss of one unit (or one 100,000-unit lot) at the stop, which is the yen distance divided by
USDJPY; MT5 lots are then rounded down to the 0.01 lot step.
"""

from __future__ import annotations

import math
import re

import pytest

from core.approvals import ApprovalState
from core.events import Trigger
from tests.brokers.fake_mt5 import FakeMt5
from tests.conftest import ADMIN_ID
from tests.trading.conftest import button, latest_card
from tests.trading.mt5_path import mt5_path, quote_like_the_market

JPY_PAIRS = ["USDJPY", "GBPJPY", "EURJPY"]


def mid(runtime, symbol: str) -> float:
    info = runtime.services.market.price_info(symbol)
    return (info.bid + info.ask) / 2 if info.bid is not None and info.ask is not None else info.price


@pytest.mark.parametrize("symbol", JPY_PAIRS)
async def test_paper_execute_risks_one_percent_of_equity_in_dollars(trade_chat, runtime, symbol):
    broker, trading = runtime.services.broker, runtime.services.trading
    await trade_chat.send(f"/analyse {symbol}")
    card = latest_card(trade_chat)
    yen_per_dollar = mid(runtime, "USDJPY")
    equity = (await broker.account()).equity

    await trade_chat.press(card, button(trade_chat, card, "EXECUTE"))

    [position] = await broker.positions()
    plan = (await trading.store.approval_for_ticket(position.ticket)).plan
    dollars_lost_per_unit = abs(plan.entry - plan.stop) / yen_per_dollar
    assert position.volume == pytest.approx(equity * 0.01 / dollars_lost_per_unit, rel=1e-9)
    assert 100 < yen_per_dollar < 200  # a yen price: counting yen as dollars would be ~150x off


@pytest.mark.parametrize("symbol", JPY_PAIRS)
async def test_mt5_execute_lots_risk_one_percent_of_equity_in_dollars(trade_chat, runtime, symbol):
    fake = FakeMt5(balance=10_000.0)
    quote_like_the_market(fake, runtime, sorted({"USDJPY", symbol}))
    path = await mt5_path(runtime, fake)
    try:
        signals = runtime.services.signals  # the card is issued the one way cards are; MT5 executes it
        evaluation = await signals.evaluate(symbol, trigger=Trigger.DEMAND)
        plan = evaluation.plan
        issued = await signals.issue(evaluation, chat_id=ADMIN_ID, user_id=ADMIN_ID)
        decision = await path.trading.execute(issued.approval.id, user_id=ADMIN_ID, chat_id=ADMIN_ID)
        [position] = await path.broker.positions()
    finally:
        await path.broker.disconnect()

    assert decision.ok, decision.reason
    bid, ask = fake.ticks["USDJPY"]
    dollars_lost_per_lot = abs(plan.entry - plan.stop) * 100_000 / ((bid + ask) / 2)
    lots = math.floor(10_000.0 * 0.01 / dollars_lost_per_lot / 0.01 + 1e-9) * 0.01
    assert lots >= 0.01
    assert position.volume == pytest.approx(lots)


async def test_paper_close_books_dollars_and_the_r_of_a_yen_trade(trade_chat, runtime):
    broker, trading = runtime.services.broker, runtime.services.trading
    await trade_chat.send("/analyse USDJPY")
    card = latest_card(trade_chat)
    await trade_chat.press(card, button(trade_chat, card, "EXECUTE"))
    [position] = await broker.positions()
    order = await trading.store.get_order((await trading.store.approval_for_ticket(position.ticket)).id)
    quote = await broker.quote("USDJPY")
    exit_price = quote.bid if position.direction.value == "long" else quote.ask
    yen_per_dollar = mid(runtime, "USDJPY")

    await trade_chat.send(f"/close {position.ticket}")

    [trade] = await trading.guard.records.closed_trades()
    sign = 1 if position.direction.value == "long" else -1
    assert trade.realized_pnl == pytest.approx(sign * (exit_price - position.open_price) * position.volume
                                               / yen_per_dollar)
    assert trade.risk_amount == pytest.approx(abs(position.open_price - order.stop_loss) * position.volume
                                              / yen_per_dollar)
    # about 1% of 10,000 USD: sized from the plan's entry, the fill is half a spread away from it
    assert trade.risk_amount == pytest.approx(100.0, rel=0.1)


@pytest.mark.parametrize("symbol", ["USDJPY", "GBPJPY"])
async def test_the_card_shows_the_size_execute_will_place_and_the_dollars_at_risk(trade_chat, runtime, symbol):
    broker, store = runtime.services.broker, runtime.services.store
    yen_per_dollar = mid(runtime, "USDJPY")
    await trade_chat.send(f"/analyse {symbol}")
    card = latest_card(trade_chat)
    [approval] = await store.list_approvals((ApprovalState.PENDING,))
    plan = approval.plan

    found = re.search(r"Size (?:<b>)?([\d,.]+) (\w+)(?:</b>)? · risk ([\d,.]+) USD \(([\d.]+)% of equity\)", card["text"])
    assert found, card["text"]
    units, base = float(found[1].replace(",", "")), found[2]
    risk_usd, risk_pct = float(found[3].replace(",", "")), float(found[4])
    expected_units = 10_000.0 * 0.01 / (abs(plan.entry - plan.stop) / yen_per_dollar)
    assert base == symbol[:3]
    assert units == pytest.approx(expected_units, rel=1e-5)
    assert (risk_usd, risk_pct) == (100.00, 1.00)

    await trade_chat.press(card, button(trade_chat, card, "EXECUTE"))
    [position] = await broker.positions()
    assert position.volume == pytest.approx(units, rel=1e-5)  # the card's size is what was placed


async def test_execute_refuses_on_a_stale_rate_with_the_reason_and_the_limit_is_the_setting(trade_chat, runtime,
                                                                                              clock):
    await trade_chat.send("/analyse GBPJPY")
    card = latest_card(trade_chat)
    await trade_chat.send("/set money.max_rate_age_s 2")
    await runtime.services.market_feed.stop()  # the simulator would follow the clock with fresh prices
    clock.advance(3_000)  # no new prices for 3 s: every rate is now 3 s old

    calls = await trade_chat.press(card, button(trade_chat, card, "EXECUTE"))

    alert = next(c.text for c in calls if type(c).__name__ == "AnswerCallbackQuery")
    assert "cannot size GBPJPY: cannot convert JPY to USD: the USDJPY price is 3 s old (limit 2 s)" in alert
