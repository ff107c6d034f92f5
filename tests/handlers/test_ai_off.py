"""Without OPENAI_API_KEY the AI commands say how to enable the AI, and nothing else changes."""

from aiogram.methods import EditMessageText, SendMessage

from tests.conftest import warm_market


async def test_ai_without_a_key_says_how_to_turn_it_on(chat, runtime, clock):
    warm_market(runtime, clock)
    assert runtime.services.ai is None
    for text in ("/ai BTCUSD", "Use GPT analysis for BTCUSD", "Run AI validation on XAUUSD"):
        calls = await chat.send(text)
        assert [type(c) for c in calls] == [SendMessage], text
        assert calls[0].text.startswith("AI analysis is off: set OPENAI_API_KEY")
    analyse = await chat.send("/analyse BTCUSD")
    assert not [c for c in analyse if isinstance(c, EditMessageText)]
    assert "AI" not in analyse[0].text.split("<b>Why:</b>")[0]
    [help_text] = await chat.texts("/help")
    assert "/ai SYMBOL" in help_text and "/costs [days]" in help_text
    [costs] = [c.text for c in await chat.send("/costs") if isinstance(c, SendMessage)]
    assert "Total <b>$0</b> · 0 calls" in costs
