"""`/ai BTCUSD` piped into `python -m bot chat`: the card is printed first, then its update with the
AI section (the scripted OpenAI-compatible server answering over HTTP)."""

import pytest

from tests.conftest import LOOSE_SETTINGS, run_moneybot
from tests.llm.conftest import EXECUTE, SCREENER, STRONG, VALIDATOR
from tests.llm.openai_server import ScriptedOpenAI, answer


@pytest.fixture
def threaded_server():
    server = ScriptedOpenAI(latency_s=0.3).start_in_thread()
    yield server
    server.stop_thread()


def test_ai_in_the_console(tmp_path, threaded_server):
    threaded_server.script(SCREENER, answer(STRONG, prompt=900, completion=60))
    threaded_server.script(VALIDATOR, answer(EXECUTE, prompt=1000, completion=400))
    script = "".join(f"/set {s}\n" for s in (*LOOSE_SETTINGS, "bot.reply_chart false")) + "/ai BTCUSD\n"

    result = run_moneybot(tmp_path / "data", script, "chat", OPENAI_API_KEY="test-key",
                          OPENAI_BASE_URL=threaded_server.base_url, LLM_SCREENER_MODEL=SCREENER,
                          LLM_VALIDATOR_MODEL=VALIDATOR)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    card_at = out.index("BTCUSD ")
    checking_at = out.index("🤖 AI checking…", card_at)
    updated_at = out.index("(message #", checking_at)
    section = out[updated_at:]
    assert "🤖 AI · screener gpt-4o-mini: STRONG 85 · validator gpt-5: EXECUTE" in section
    assert "[1] EXECUTE  [2] WAIT  [3] REJECT" in section
    assert threaded_server.hits() == 2
