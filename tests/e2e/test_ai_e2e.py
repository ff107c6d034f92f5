"""`/ai BTCUSD` over HTTP: `moneybot run` polling the tgemu Bot API emulator, the real `openai` client
calling the scripted OpenAI-compatible server. The regular card arrives first, then it is edited."""

import json

import pytest

from tests.conftest import LOOSE_SETTINGS
from tests.e2e.conftest import ADMIN
from tests.llm.openai_server import ScriptedOpenAI, answer

pytestmark = pytest.mark.e2e
STRONG = {"verdict": "STRONG", "confidence": 88, "reasons": ["trend aligned", "support below"]}
EXECUTE = {"decision": "EXECUTE", "reasoning": "Structure and flow agree.", "invalidation_price": None,
           "risks": ["reversal"], "entry": None, "stop": None, "target": None}


@pytest.fixture
def ai_server():
    server = ScriptedOpenAI(latency_s=1.0).start_in_thread()  # slow enough to see the card before the AI
    yield server
    server.stop_thread()


def _ask(emu, text: str, count: int = 1, timeout: float = 60) -> list[dict]:
    mark = emu.send_text(chat_id=ADMIN, user_id=ADMIN, text=text)
    return emu.wait_for_bot_messages(ADMIN, since=mark, timeout=timeout, count=count)


def test_ai_card_first_then_edited_over_telegram(tgemu, moneybot, ai_server):
    ai_server.script("gpt-4o-mini", answer(STRONG, prompt=900, completion=60))
    ai_server.script("gpt-5", answer(EXECUTE, prompt=1000, completion=400))
    moneybot(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=ai_server.base_url, LLM_SCREENER_MODEL="gpt-4o-mini",
             LLM_VALIDATOR_MODEL="gpt-5")
    for setting in (*LOOSE_SETTINGS, "bot.reply_chart false"):
        _ask(tgemu, f"/set {setting}")

    seq = tgemu.last_call_seq()
    [card] = _ask(tgemu, "/ai BTCUSD")
    assert card["text"].startswith("<b>BTCUSD</b>") and card["text"].endswith("🤖 <i>AI checking…</i>")

    edited = tgemu.wait_for_edit(ADMIN, card, timeout=60)
    assert "screener gpt-4o-mini: <b>STRONG</b> 88 · validator gpt-5: <b>EXECUTE</b>" in edited["text"]
    assert [label for row in edited["reply_markup"]["inline_keyboard"] for label in [b["text"] for b in row]] \
        == ["EXECUTE", "WAIT", "REJECT"]
    sends = [c for c in tgemu.calls("sendMessage", since=seq) if "AI checking" in json.dumps(c["params"])]
    [edit] = tgemu.calls("editMessageText", since=seq)
    assert sends and sends[0]["seq"] < edit["seq"]
    assert ai_server.hits() == 2 and not tgemu.failed_calls()
