"""Closing positions (button with confirmation, /close), the journal, /stats and the daily-loss breaker."""

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from core.models import Direction
from core.stats import ClosedTrade
from jobs.trading import check_daily_loss, feed_prices_to_positions
from tests.trading.conftest import button, latest_card


async def _open_position(chat) -> int:
    await chat.send("/analyse BTCUSD")
    card = latest_card(chat)
    await chat.press(card, button(chat, card, "EXECUTE"))
    return int(card["message_id"])


def _sent(calls) -> list[str]:
    return [c.text for c in calls if isinstance(c, SendMessage)]


async def test_close_button_asks_then_closes_and_the_trade_reaches_stats(trade_chat, runtime):
    await _open_position(trade_chat)
    [position] = await runtime.services.broker.positions()
    await trade_chat.send("/positions")
    listing = latest_card(trade_chat)
    ask = button(trade_chat, listing, f"Close #{position.ticket}")
    await trade_chat.press(listing, ask)
    confirm_msg = latest_card(trade_chat)
    assert "Close position" in confirm_msg["text"]
    calls = await trade_chat.press(confirm_msg, button(trade_chat, confirm_msg, f"Yes, close #{position.ticket}"))
    assert any(isinstance(c, EditMessageText) and c.text.startswith(f"Closed #{position.ticket}") for c in calls)
    assert await runtime.services.broker.positions() == []

    [stats] = _sent(await trade_chat.send("/stats 7"))
    assert "all: 1 trades" in stats and "By setup" in stats and "BTCUSD: 1 trades" in stats
    journal = "\n".join(_sent(await trade_chat.send("/journal 20")))
    for kind in ("signal", "decision", "fill", "close"):
        assert f"<i>{kind}</i>" in journal, kind


async def test_close_command_and_bad_ticket(trade_chat, runtime):
    await _open_position(trade_chat)
    [position] = await runtime.services.broker.positions()
    [bad] = _sent(await trade_chat.send("/close 999999"))
    assert "was not closed" in bad
    [ok] = _sent(await trade_chat.send(f"/close {position.ticket}"))
    assert ok.startswith(f"Closed #{position.ticket}")


async def test_stop_loss_hit_by_the_feed_is_pushed_and_recorded(trade_chat, runtime, clock):
    await _open_position(trade_chat)
    portfolio = runtime.services.portfolio
    [position] = await runtime.services.broker.positions()
    market = runtime.services.market
    mark = trade_chat.session.mark()
    # a price far through the stop, as the feed would deliver it
    through = position.stop_loss * (0.97 if position.direction.value == "long" else 1.03)
    await portfolio.monitor.on_price(position.symbol, through, through, clock.now_ms())
    assert await runtime.services.broker.positions() == []
    assert await runtime.services.bus.drain()
    pushed = [c.text for c in trade_chat.session.since(mark) if isinstance(c, SendMessage)]
    assert any(f"#{position.ticket}" in t for t in pushed), pushed
    [stats] = _sent(await trade_chat.send("/stats"))
    assert "all: 1 trades" in stats and "losses 1" in stats
    await feed_prices_to_positions(portfolio, market)  # the regular job is harmless with nothing open


async def test_daily_loss_breaker_trips_alerts_admins_and_blocks(trade_chat, runtime, clock):
    trading = runtime.services.trading
    account = await trading.broker.account()
    await trade_chat.send("/analyse BTCUSD")
    before = latest_card(trade_chat)  # issued while trading was allowed
    execute = button(trade_chat, before, "EXECUTE")
    # a losing trade closed today: 5% of equity against the 3% limit
    await trading.guard.records.add_closed_trade(ClosedTrade(
        approval_id="x", ticket=424242, symbol="BTCUSD", direction=Direction.LONG, setup_type="breakout",
        entry_price=100.0, exit_price=95.0, volume=1.0, realized_pnl=-0.05 * account.equity,
        open_ts_ms=clock.now_ms() - 60_000, close_ts_ms=clock.now_ms()))
    mark = trade_chat.session.mark()
    assert await check_daily_loss(trading) is True
    assert await runtime.services.bus.drain()
    [alert] = [c.text for c in trade_chat.session.since(mark) if isinstance(c, SendMessage)]
    assert "Trading HALTED" in alert
    calls = await trade_chat.press(before, execute)  # the press re-runs the gates
    answer = next(c for c in calls if isinstance(c, AnswerCallbackQuery))
    assert "daily loss" in answer.text or "halted" in answer.text, answer.text
    await trade_chat.send("/analyse BTCUSD")
    card = latest_card(trade_chat)  # a new card is watch only: no EXECUTE, and it says why
    assert [label for label, _ in trade_chat.session.buttons(card)] == ["WAIT", "REJECT"]
    assert "Watch only" in card["text"] and "halted" in card["text"]
    assert await trading.broker.positions() == []
    [status] = _sent(await trade_chat.send("/status"))
    assert "Trading: HALTED" in status


async def test_partial_and_final_close_are_summed_from_the_journal(trade_chat, runtime, clock):
    from core.models import Fill
    from core.position_monitor import EventKind, PositionEvent

    await _open_position(trade_chat)
    portfolio = runtime.services.portfolio
    [position] = await runtime.services.broker.positions()
    ticket = position.ticket

    def fill(kind: str, pnl: float) -> Fill:
        return Fill(ticket=ticket, symbol=position.symbol, direction=position.direction, volume=position.volume / 2,
                    price=position.open_price, ts_ms=clock.now_ms(), kind=kind, realized_pnl=pnl)

    await portfolio.on_event(PositionEvent(EventKind.PARTIAL_CLOSE, ticket, position.symbol, "half at T1",
                                           clock.now_ms(), "target 1", fill("partial_close", 40.0)))
    await portfolio.on_event(PositionEvent(EventKind.CLOSED, ticket, position.symbol, "rest at breakeven",
                                           clock.now_ms(), "breakeven", fill("close", 0.0)))
    [trade] = await runtime.services.trading.guard.records.closed_trades()
    assert trade.ticket == ticket and trade.realized_pnl == 40.0
