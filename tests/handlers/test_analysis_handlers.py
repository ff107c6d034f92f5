"""/analyse, /flow, /sr, /depth, /price, /health through the real dispatcher on the simulator."""

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage, SendPhoto

from tests.conftest import ADMIN_ID, LOOSE_SETTINGS, STRANGER_ID, warm_market


@pytest.fixture
async def market_chat(chat, runtime, clock):
    warm_market(runtime, clock)
    return chat


def _texts(calls) -> list[str]:
    return [c.text for c in calls if isinstance(c, SendMessage)]


async def test_analyse_sends_a_card_and_a_chart(market_chat):
    calls = await market_chat.send("/analyse BTCUSD")
    [card] = _texts(calls)
    assert card.startswith("<b>BTCUSD</b>") and "[SIMULATED]" in card
    assert "Zones" in card and "RSI:" in card and "Order flow:" in card and "Why:" in card
    photos = [c for c in calls if isinstance(c, SendPhoto)]
    assert len(photos) == 1
    path = market_chat.session.messages[max(market_chat.session.messages)]["photo"][0]["file_id"]
    assert open(path, "rb").read(4) == b"\x89PNG"


async def test_alias_and_free_text_reach_the_same_card(market_chat):
    [by_alias] = _texts(await market_chat.send("/analyze btc"))
    [by_sentence] = _texts(await market_chat.send("Analyse BTCUSD"))
    assert by_alias.split("\n")[0] == by_sentence.split("\n")[0]


async def test_flow_reports_pressure_whales_and_a_depth_chart(market_chat):
    calls = await market_chat.send("/flow BTCUSD")
    [report] = _texts(calls)
    assert "order flow" in report and "Book imbalance" in report and "pressure" in report
    assert "Large trades" in report
    assert any(isinstance(c, SendPhoto) for c in calls)


async def test_flow_for_a_pair_binance_does_not_list_says_so(market_chat):
    [report] = _texts(await market_chat.send("check order flow for GBPUSD"))
    assert "GBPUSD" in report and "Binance" in report


async def test_sr_and_depth(market_chat):
    calls = await market_chat.send("/sr XAUUSD")
    [table] = _texts(calls)
    assert "support / resistance" in table
    assert any(isinstance(c, SendPhoto) for c in calls)
    depth = await market_chat.send("/depth BTCUSD")
    assert [c for c in depth if isinstance(c, SendPhoto)]


@pytest.mark.parametrize("text, words", [
    ("/analyse DOGEUSD", "Unknown symbol DOGEUSD. Valid symbols: BTCUSD"),
    ("/analyse", "Which symbol? Usage: /analyse SYMBOL"),
    ("/flow <b>", "Unknown symbol &lt;b&gt;"),
])
async def test_bad_symbols_get_one_clear_line(market_chat, text, words):
    [reply] = _texts(await market_chat.send(text))
    assert words in reply and reply.count("\n") == 0


async def test_a_stale_feed_is_explained(market_chat, runtime, clock):
    await runtime.services.market_feed.stop()
    clock.advance(300_000)  # five minutes without a market message
    [reply] = _texts(await market_chat.send("/analyse BTCUSD"))
    assert reply.startswith("Not ready: BTCUSD") and "stale" in reply and "/health" in reply


async def test_price_and_health(market_chat):
    [price] = _texts(await market_chat.send("/price gold"))
    assert price.startswith("<b>XAUUSD</b>") and "SIMULATED" in price and "s old" in price
    [health] = _texts(await market_chat.send("/health"))
    assert "Market data health" in health and "BTCUSD" in health


async def test_signal_buttons_need_a_trader(market_chat):
    # make any direction a plan, so the seeded market's card carries buttons
    for setting in LOOSE_SETTINGS:
        await market_chat.send(f"/set {setting}")
    await market_chat.send("/analyse BTCUSD")
    card = next(m for m in reversed(list(market_chat.session.messages.values())) if m.get("reply_markup"))
    labels = [label for label, _ in market_chat.session.buttons(card)]
    assert labels == ["EXECUTE", "WAIT", "REJECT"]
    data = market_chat.session.buttons(card)[0][1]
    await market_chat.send(f"/allow {STRANGER_ID} viewer")
    [refused] = await market_chat.press(card, data, user_id=STRANGER_ID)
    assert isinstance(refused, AnswerCallbackQuery) and "trader" in refused.text
    answers = [c for c in await market_chat.press(card, data, user_id=ADMIN_ID) if isinstance(c, AnswerCallbackQuery)]
    assert answers and "trader role" not in answers[0].text  # an admin may trade (the flow is in tests/trading)
