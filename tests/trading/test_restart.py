"""After a restart, pending cards can still be answered, or still expire; nothing is doubled."""

from aiogram.methods import AnswerCallbackQuery

from bot.runtime import build_runtime
from bot.telegram import make_bot
from core.approvals import ApprovalState
from jobs.trading import expire_cards
from tests.conftest import Chat, RecordingSession, warm_market
from tests.trading.conftest import button, latest_card


async def _restarted(settings, clock, tmp_path):
    session = RecordingSession(tmp_path / "photos2")
    bot = make_bot("42:TEST-token", session=session)
    runtime = await build_runtime(settings, bot, clock=clock, run_jobs=False)
    return runtime, Chat(runtime.dispatcher(), bot, session)


async def test_a_card_from_before_the_restart_can_be_executed_once(trade_chat, runtime, settings, clock, tmp_path):
    await trade_chat.send("/analyse BTCUSD")
    card = latest_card(trade_chat)
    execute = button(trade_chat, card, "EXECUTE")
    await trade_chat.send("/analyse XAUUSD")
    stale_card = latest_card(trade_chat)
    stale_execute = button(trade_chat, stale_card, "EXECUTE")
    await runtime.close()

    again, chat = await _restarted(settings, clock, tmp_path)
    try:
        warm_market(again, clock, seconds=5)
        answers = [c for c in await chat.press(card, execute) if isinstance(c, AnswerCallbackQuery)]
        assert answers[0].text.startswith("Placed: ticket"), answers[0].text
        [second] = [c for c in await chat.press(card, execute) if isinstance(c, AnswerCallbackQuery)]
        assert "Already executed" in second.text
        assert len(await again.services.broker.positions()) == 1

        clock.advance(301_000)
        assert await expire_cards(again.services.trading) == 1
        approval = await again.services.trading.store.get_approval(stale_execute.split(":")[-1])
        assert approval.state is ApprovalState.EXPIRED
    finally:
        await again.close()
