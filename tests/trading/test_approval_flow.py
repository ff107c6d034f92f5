"""EXECUTE / WAIT / REJECT and expiry through the real dispatcher, paper broker and database."""

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from core.approvals import ApprovalState, OrderState
from jobs.trading import expire_cards, recheck_waiting_cards
from tests.conftest import ADMIN_ID, STRANGER_ID
from tests.trading.conftest import button, latest_card


def _approval_id(data: str) -> str:
    return data.split(":")[-1]


async def _card(chat, symbol="BTCUSD") -> dict:
    await chat.send(f"/analyse {symbol}")
    return latest_card(chat)


async def test_execute_places_one_order_and_positions_lists_it(trade_chat, runtime):
    card = await _card(trade_chat)
    execute = button(trade_chat, card, "EXECUTE")
    calls = await trade_chat.press(card, execute)
    [answer] = [c for c in calls if isinstance(c, AnswerCallbackQuery)]
    [edit] = [c for c in calls if isinstance(c, EditMessageText)]
    assert answer.text.startswith("Placed: ticket"), answer.text
    assert "EXECUTED: ticket" in edit.text and edit.reply_markup is None  # buttons removed
    store = runtime.services.trading.store
    approval = await store.get_approval(_approval_id(execute))
    order = await store.get_order(approval.id)
    assert approval.state is ApprovalState.EXECUTED and order.state is OrderState.FILLED
    [listing] = [c for c in await trade_chat.send("/positions") if isinstance(c, SendMessage)]
    assert f"#{approval.ticket} <b>BTCUSD</b>" in listing.text

    # a second press, a replayed callback, never a second order
    again = await trade_chat.press(card, execute)
    assert "Already executed" in again[0].text
    positions = await runtime.services.broker.positions()
    assert len(positions) == 1 and positions[0].client_id == approval.id


async def test_viewer_and_other_chat_cannot_execute(trade_chat, runtime):
    card = await _card(trade_chat)
    execute = button(trade_chat, card, "EXECUTE")
    await trade_chat.send(f"/allow {STRANGER_ID} viewer")
    [refused] = await trade_chat.press(card, execute, user_id=STRANGER_ID)
    assert "needs the trader role" in refused.text
    await trade_chat.send(f"/allow {STRANGER_ID} trader")
    foreign = dict(card, chat={"id": STRANGER_ID, "type": "private"})
    [other_chat] = await trade_chat.press(foreign, execute, user_id=STRANGER_ID)
    assert "another chat" in other_chat.text
    forged = execute[:-4] + "beef"
    [unknown] = await trade_chat.press(card, forged)
    assert "unknown" in unknown.text
    assert await runtime.services.broker.positions() == []


async def test_reject_is_recorded_with_who(trade_chat, runtime):
    card = await _card(trade_chat)
    reject = button(trade_chat, card, "REJECT")
    execute = button(trade_chat, card, "EXECUTE")
    calls = await trade_chat.press(card, reject)
    assert any(isinstance(c, EditMessageText) and "REJECTED by 111" in c.text for c in calls)
    approval = await runtime.services.trading.store.get_approval(_approval_id(reject))
    assert approval.state is ApprovalState.REJECTED and approval.decided_by == ADMIN_ID
    [late] = await trade_chat.press(card, execute)
    assert "rejected" in late.text


async def test_unanswered_card_expires_and_cannot_execute(trade_chat, runtime, clock):
    card = await _card(trade_chat)
    execute = button(trade_chat, card, "EXECUTE")
    clock.advance(301_000)
    mark = trade_chat.session.mark()
    trading = runtime.services.trading
    assert await expire_cards(trading) == 1
    assert await runtime.services.bus.drain()
    [edit] = [c for c in trade_chat.session.since(mark) if isinstance(c, EditMessageText)]
    assert "EXPIRED" in edit.text and edit.reply_markup is None
    [answer] = await trade_chat.press(card, execute)
    assert "expired" in answer.text
    assert await runtime.services.broker.positions() == []


async def test_wait_rechecks_and_sends_a_fresh_card(trade_chat, runtime, clock):
    card = await _card(trade_chat)
    wait = button(trade_chat, card, "WAIT")
    calls = await trade_chat.press(card, wait)
    assert any(isinstance(c, EditMessageText) and "WAIT" in c.text for c in calls)
    trading = runtime.services.trading
    from tests.conftest import warm_market

    warm_market(runtime, clock, seconds=11 * 60)  # past the first re-check (30 min / 3)
    mark = trade_chat.session.mark()
    await recheck_waiting_cards(runtime.services.wait_rechecks)
    assert await runtime.services.bus.drain()
    old = await trading.store.get_approval(_approval_id(wait))
    if old.state is ApprovalState.SUPERSEDED:
        fresh = latest_card(trade_chat)
        assert fresh["message_id"] != card["message_id"]
        assert "Re-check after WAIT" in fresh["text"]
        assert [label for label, _ in trade_chat.session.buttons(fresh)] == ["EXECUTE", "WAIT", "REJECT"]
    else:  # the setup changed direction: still waiting with one re-check fewer, or told it is invalid
        assert old.state in (ApprovalState.WAITING, ApprovalState.INVALIDATED)
        if old.state is ApprovalState.WAITING:
            assert old.wait_checks_left == 2
    assert trade_chat.session.since(mark) or old.state is ApprovalState.WAITING


async def test_pause_blocks_execute_and_resume_allows(trade_chat, runtime):
    card = await _card(trade_chat)  # issued while trading was allowed...
    execute = button(trade_chat, card, "EXECUTE")
    await trade_chat.send("/pause")  # ...pressed after the pause: the gates at the press refuse it
    calls = await trade_chat.press(card, execute)
    assert any(isinstance(c, EditMessageText) and "NOT PLACED" in c.text and "paused" in c.text for c in calls)
    paused_card = await _card(trade_chat)  # a card issued while paused offers no EXECUTE and says why
    assert [label for label, _ in trade_chat.session.buttons(paused_card)] == ["WAIT", "REJECT"]
    assert "Watch only" in paused_card["text"] and "paused" in paused_card["text"]
    await trade_chat.send("/resume")
    card = await _card(trade_chat)
    calls = await trade_chat.press(card, button(trade_chat, card, "EXECUTE"))
    assert any(isinstance(c, EditMessageText) and "EXECUTED" in c.text for c in calls)
    [status] = [c for c in await trade_chat.send("/status") if isinstance(c, SendMessage)]
    assert "Trading: ACTIVE" in status.text and "Open positions: 1" in status.text


async def test_stale_feed_blocks_execute(trade_chat, runtime, clock):
    card = await _card(trade_chat)
    await runtime.services.market_feed.stop()  # the feed goes silent...
    clock.advance(120_000)  # ...for two minutes: STALE
    calls = await trade_chat.press(card, button(trade_chat, card, "EXECUTE"))
    assert any(isinstance(c, EditMessageText) and "stale" in c.text for c in calls)
    assert await runtime.services.broker.positions() == []
