"""Closes the MT5 server makes by itself (stop loss, take profit) reach the journal, the closed
trades, the published PositionClosed, the message pushed to the chat and the daily-loss breaker
with the figures of the position's deals, on the fake terminal through the real trading path.

Expected money is computed here from first principles: the yen move x lots x 100,000, divided by
the USDJPY mid at the close (the server converts profit at the current rate), rounded to cents,
plus the commission of both deals and the swap.
"""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage

from core.events import BreakerChanged, CloseReason, PositionClosed, Trigger
from jobs.trading import check_daily_loss
from tests.brokers.fake_mt5 import FakeMt5
from tests.conftest import ADMIN_ID
from tests.trading.mt5_path import Mt5Path, mt5_path, quote_like_the_market

COMMISSION_PER_LOT = -3.5  # per deal


class Published:
    """What the event bus carried, and what its subscribers pushed to the chat."""

    def __init__(self, runtime, chat) -> None:
        self.bus, self.chat, self.events = runtime.services.bus, chat, []
        self.bus.subscribe("test:closes", self.events.append, PositionClosed, BreakerChanged)
        self._mark = chat.session.mark()

    async def settled(self) -> list:
        await self.bus.drain()
        return self.events

    async def pushed(self) -> list[str]:
        await self.bus.drain()
        return [c.text for c in self.chat.session.since(self._mark) if isinstance(c, SendMessage)]


async def open_position(runtime, path: Mt5Path, symbol: str):
    """A card issued the one way cards are (the signal service), executed on the MT5 path."""
    signals = runtime.services.signals
    issued = await signals.issue(await signals.evaluate(symbol, trigger=Trigger.DEMAND), chat_id=ADMIN_ID,
                                 user_id=ADMIN_ID)
    decision = await path.trading.execute(issued.approval.id, user_id=ADMIN_ID, chat_id=ADMIN_ID)
    assert decision.ok, decision.reason
    return next(p for p in await path.broker.positions() if p.client_id == issued.approval.id)


def through(position, stop_or_target: float, fake: FakeMt5, symbol: str, beyond: float) -> None:
    """Move the fake's quote of ``symbol`` ``beyond`` past a price on the side the position closes at."""
    bid, ask = fake.ticks[symbol]
    spread = ask - bid
    price = round(stop_or_target + beyond, 3)
    if position.direction.value == "long":
        fake.set_tick(symbol, price, round(price + spread, 3))
    else:
        fake.set_tick(symbol, round(price - spread, 3), price)


def dollars(position, exit_price: float, fake: FakeMt5, swap: float = 0.0) -> float:
    bid, ask = fake.ticks["USDJPY"]
    sign = 1 if position.direction.value == "long" else -1
    profit = round((exit_price - position.open_price) * position.volume * 100_000 * sign / ((bid + ask) / 2), 2)
    return profit + 2 * round(COMMISSION_PER_LOT * position.volume, 2) + swap


@pytest.fixture
async def mt5(trade_chat, runtime):
    fake = FakeMt5(balance=10_000.0)
    fake.commission_per_lot = COMMISSION_PER_LOT
    quote_like_the_market(fake, runtime, ["EURJPY", "GBPJPY", "USDJPY"])
    path = await mt5_path(runtime, fake)
    yield path, Published(runtime, trade_chat)
    await path.broker.disconnect()


async def test_a_server_stop_loss_books_the_deal_everywhere(mt5, runtime):
    path, seen = mt5
    fake = path.fake
    position = await open_position(runtime, path, "USDJPY")
    sign = 1 if position.direction.value == "long" else -1
    through(position, position.stop_loss, fake, "USDJPY", -sign * 0.05)
    [ticket] = fake.hit_stops(swap=-1.20)
    expected = dollars(position, position.stop_loss, fake, swap=-1.20)

    await path.monitor.poll()

    [trade] = await path.trading.guard.records.closed_trades()
    assert (trade.ticket, trade.exit_reason, trade.provisional) == (ticket, "stop loss", False)
    assert trade.realized_pnl == pytest.approx(expected, abs=0.005)
    assert trade.exit_price == position.stop_loss
    assert expected < -90  # about 1% of 10,000 USD; the yen figure would be ~150x larger
    journal = await path.trading.store.journal_for_ticket(ticket)
    kinds = [e.kind for e in journal]
    assert "closed" in kinds and "close_confirmed" in kinds
    booked = sum(float(e.data.get("realized_pnl") or 0) for e in journal if e.kind in ("closed", "close_confirmed"))
    assert booked == pytest.approx(expected, abs=0.005)
    [event] = [e for e in await seen.settled() if isinstance(e, PositionClosed)]
    assert (event.reason, event.provisional, event.currency) == (CloseReason.STOP_LOSS, False, "USD")
    assert event.pnl_account == pytest.approx(expected, abs=0.005)
    assert event.exit_price == position.stop_loss
    assert event.commission_account == pytest.approx(2 * round(COMMISSION_PER_LOT * position.volume, 2))
    assert event.swap_account == pytest.approx(-1.20)
    assert event.r_multiple == pytest.approx(expected / trade.risk_amount)
    [text] = await seen.pushed()
    assert f"{expected:+,.2f} USD" in text and "stop loss" in text and f"#{ticket}" in text


async def test_a_take_profit_whose_deals_arrive_late_is_provisional_until_confirmed(mt5, runtime, trade_chat):
    path, seen = mt5
    fake = path.fake
    position = await open_position(runtime, path, "GBPJPY")
    sign = 1 if position.direction.value == "long" else -1
    await path.monitor.poll()  # the floating P/L the estimate will use (at the entry: the spread)
    [floating] = await path.broker.positions()
    through(position, position.take_profit, fake, "GBPJPY", sign * 0.05)
    fake.delay_deals(calls=3)
    [ticket] = fake.hit_stops()
    expected = dollars(position, position.take_profit, fake)

    await path.monitor.poll()  # the monitor and the settlement each read the history once: not there

    [provisional] = await path.trading.guard.records.closed_trades()
    assert provisional.provisional and provisional.realized_pnl == pytest.approx(floating.unrealized_pnl)
    assert "provisional" in (await seen.pushed())[-1]
    assert seen.events[-1].provisional
    stats = (await trade_chat.texts("/stats"))[0]
    assert f"Provisional: 1 closed trade(s) (#{ticket})" in stats
    assert await path.portfolio.confirm_closes() == []  # the third read: still late

    [confirmed] = await path.portfolio.confirm_closes()

    [trade] = await path.trading.guard.records.closed_trades()
    assert (trade.ticket, trade.exit_reason, trade.provisional) == (ticket, "take profit", False)
    assert trade.realized_pnl == pytest.approx(expected, abs=0.005) and expected > 0
    assert (confirmed.reason, confirmed.provisional) == (CloseReason.TAKE_PROFIT, False)
    assert confirmed.pnl_account == pytest.approx(expected, abs=0.005)
    assert (await seen.settled())[-1] == confirmed
    pushed = (await seen.pushed())[-1]
    assert f"{expected:+,.2f} USD" in pushed and "take profit" in pushed and "provisional" not in pushed
    journal = await path.trading.store.journal_for_ticket(ticket)
    booked = sum(float(e.data.get("realized_pnl") or 0) for e in journal if e.kind in ("closed", "close_confirmed"))
    assert booked == pytest.approx(expected, abs=0.005)
    stats = (await trade_chat.texts("/stats"))[0]
    assert "Provisional" not in stats and f"{expected:+,.2f}" in stats


async def test_four_server_stop_outs_trip_the_daily_loss_breaker(mt5, runtime, trade_chat):
    path, seen = mt5
    fake = path.fake
    for setting in ("risk.max_open_positions 4", "risk.correlation_limit 10"):
        await trade_chat.send(f"/set {setting}")
    positions = [await open_position(runtime, path, symbol) for symbol in ("USDJPY", "GBPJPY", "EURJPY", "USDJPY")]
    for symbol in ("USDJPY", "GBPJPY", "EURJPY"):
        mine = [p for p in positions if p.symbol == symbol]
        sign = 1 if mine[0].direction.value == "long" else -1
        worst = min(p.stop_loss for p in mine) if sign > 0 else max(p.stop_loss for p in mine)
        through(mine[0], worst, fake, symbol, -sign * 0.05)
    assert len(fake.hit_stops()) == 4

    await path.monitor.poll()
    halted = await check_daily_loss(path.trading)

    trades = await path.trading.guard.records.closed_trades()
    assert len(trades) == 4 and not any(t.provisional for t in trades)
    deals_money = sum(d.profit + d.commission + d.swap + d.fee for d in fake.deals)
    assert sum(t.realized_pnl for t in trades) == pytest.approx(deals_money, abs=0.01)
    assert deals_money / 10_000.0 < -0.03  # four 1% stops and their commissions: past the 3% limit
    assert halted
    [breaker] = [e for e in await seen.settled() if isinstance(e, BreakerChanged)]
    assert breaker.tripped and breaker.loss_pct > 3.0
    assert any("Trading HALTED" in text for text in await seen.pushed())


async def test_a_close_by_hand_in_the_terminal_is_pushed_a_close_through_the_bot_is_answered_once(
        mt5, runtime, trade_chat):
    path, seen = mt5
    fake = path.fake
    await trade_chat.send("/set risk.correlation_limit 10")
    by_hand = await open_position(runtime, path, "USDJPY")
    fake.close_by_server(by_hand.ticket, fake.DEAL_REASON_CLIENT)  # the trader closed it in MetaTrader
    await path.monitor.poll()
    [text] = [t for t in await seen.pushed() if f"#{by_hand.ticket}" in t]
    assert "manual close" in text and "USD" in text

    through_bot = await open_position(runtime, path, "EURJPY")
    mark = trade_chat.session.mark()
    await path.portfolio.close(through_bot.ticket, by=ADMIN_ID)  # what /close and the Close button call
    await seen.settled()
    assert not [c for c in trade_chat.session.since(mark) if isinstance(c, SendMessage)]  # the reply says it
    closes = [e for e in seen.events if isinstance(e, PositionClosed)]
    assert [(e.ticket, e.reason, e.closed_by) for e in closes] == [
        (by_hand.ticket, CloseReason.MANUAL, None), (through_bot.ticket, CloseReason.MANUAL, ADMIN_ID)]
