"""`/ai BTCUSD` through the real dispatcher, the real `openai` client over HTTP to the scripted server:
the card goes out first with "AI checking…", the verdicts are edited into it, every call is in the
ledger with its dollar cost computed from the scripted usage."""

import json
import re

import pytest

from core.events import SignalScreened
from core.llm.ports import Outcome, Stage
from db.cards import get_card
from tests.conftest import ADMIN_ID, STRANGER_ID
from tests.llm.conftest import EXECUTE, SCREENER, STRONG, VALIDATOR, WEAK, ask_ai, expected_cost, ledger_rows
from tests.llm.openai_server import Reply, answer

BUTTONS = ["EXECUTE", "WAIT", "REJECT"]


def _money(usd: float) -> str:
    return f"${usd:.4f}" if usd >= 0.001 else f"${usd:.6f}"


def _plan(request: dict) -> tuple[str, float]:
    """Direction and entry of the plan, read from the prompt the server received."""
    user = request["messages"][-1]["content"]
    direction, entry = re.search(r"^plan (long|short) \S+ \S+ entry ([\d.]+)", user, re.MULTILINE).groups()
    return direction, float(entry)


async def test_strong_then_execute_edits_the_card_and_books_both_calls(ai_chat, openai_server, runtime):
    seen: list[SignalScreened] = []
    runtime.services.bus.subscribe("test", seen.append, SignalScreened)
    openai_server.script(SCREENER, answer(STRONG, prompt=900, completion=60, cached=128))
    openai_server.script(VALIDATOR, answer(EXECUTE, prompt=1100, completion=700, reasoning=450))

    run = await ask_ai(ai_chat)

    assert run.card.text.endswith("🤖 <i>AI checking…</i>")  # the regular card first, before any AI answer
    assert run.calls.index(run.card) < run.calls.index(run.edits[0])
    assert len(run.edits) == 1 and run.final_buttons == BUTTONS
    assert run.final_text.startswith(run.card.text.removesuffix("\n\n🤖 <i>AI checking…</i>"))
    text = run.final_text
    assert "screener gpt-4o-mini: <b>STRONG</b> 85 · validator gpt-5: <b>EXECUTE</b>" in text
    assert "• trend up on 1h/4h/1d" in text and "Trend and structure agree" in text
    screener_usd = expected_cost(SCREENER, 900, 60, cached=128)
    validator_usd = expected_cost(VALIDATOR, 1100, 700)
    assert _money(screener_usd + validator_usd) in text

    screener, validator = await ledger_rows(runtime)
    assert (screener.stage, screener.model, screener.outcome) == (Stage.SCREENER, SCREENER, Outcome.OK)
    assert (validator.stage, validator.model, validator.outcome) == (Stage.VALIDATOR, VALIDATOR, Outcome.OK)
    assert (screener.usage.input_tokens, screener.usage.cached_tokens, screener.usage.output_tokens) == (900, 128, 60)
    assert (validator.usage.output_tokens, validator.usage.reasoning_tokens) == (700, 450)
    assert screener.cost_usd == pytest.approx(screener_usd) and validator.cost_usd == pytest.approx(validator_usd)
    assert screener.signal_id == validator.signal_id and screener.signal_id is not None
    assert screener.attempts == validator.attempts == 1

    for request in openai_server.requests:  # structured output with a strict schema where supported
        assert request["response_format"]["type"] == "json_schema"
        assert request["response_format"]["json_schema"]["strict"] is True
        prompt = json.dumps(request["messages"])
        assert "test-key" not in prompt and not re.search(rf"\b{ADMIN_ID}\b", prompt)
        assert screener.signal_id not in prompt
        assert request["messages"][0]["role"] == "system" and "plan long" not in request["messages"][0]["content"]

    await runtime.services.bus.drain()
    [event] = seen
    assert (event.screener_verdict, event.validator_decision, event.signal_id) == ("STRONG", "EXECUTE",
                                                                                   screener.signal_id)
    [review] = await runtime.services.ai_ledger.reviews_for_signal(screener.signal_id)
    assert (review.screener_verdict, review.validator_decision, review.screened_out) == ("STRONG", "EXECUTE", False)
    assert review.cost_usd == pytest.approx(screener_usd + validator_usd)


async def test_weak_never_calls_the_validator(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, answer(WEAK, prompt=880, completion=55))

    run = await ask_ai(ai_chat)

    assert openai_server.hits(VALIDATOR) == 0 and openai_server.hits(SCREENER) == 1
    assert "screener gpt-4o-mini: <b>WEAK</b> 70 · validator not asked (screener said WEAK)" in run.final_text
    assert run.final_buttons == BUTTONS
    [row] = await ledger_rows(runtime)
    assert row.stage is Stage.SCREENER and row.cost_usd == pytest.approx(expected_cost(SCREENER, 880, 55))
    assert _money(expected_cost(SCREENER, 880, 55)) in run.final_text
    [review] = await runtime.services.ai_ledger.reviews_for_signal(row.signal_id)
    assert review.screened_out and review.validator_decision is None


async def test_reject_with_a_wrong_side_stop_keeps_the_card_and_drops_the_stop(ai_chat, openai_server, runtime):
    def reject(request: dict) -> Reply:
        direction, entry = _plan(request)
        wrong_stop = entry * (1.01 if direction == "long" else 0.99)  # above a long's entry, below a short's
        return answer({"decision": "REJECT", "reasoning": "Order flow contradicts the trend; wait for a retest.",
                       "invalidation_price": entry, "risks": ["stop hunt below support", "news spike"],
                       "entry": None, "stop": round(wrong_stop, 2), "target": None}, prompt=1200, completion=400)

    openai_server.script(SCREENER, answer(STRONG, prompt=900, completion=60))
    openai_server.script(VALIDATOR, reject)

    run = await ask_ai(ai_chat)

    text = run.final_text
    assert "validator gpt-5: <b>REJECT</b>" in text and "The AI disagrees with this setup" in text
    assert re.search(r"Dropped: stop [\d,.]+ dropped: on the wrong side of entry [\d,.]+", text)
    assert "Suggested:" not in text
    assert run.final_buttons == BUTTONS  # a REJECT never hides the card or its buttons
    rows = await ledger_rows(runtime)
    assert [r.outcome for r in rows] == [Outcome.OK, Outcome.OK]
    assert sum(r.cost_usd for r in rows) == pytest.approx(expected_cost(SCREENER, 900, 60)
                                                          + expected_cost(VALIDATOR, 1200, 400))
    # later button edits start from the stored card, which now has its AI section
    assert await get_card(runtime.services.sessions, rows[0].signal_id) == text


async def test_a_server_without_json_schema_gets_json_in_words(ai_chat, openai_server, runtime):
    openai_server.schema_support = False  # like many local servers: 400 on response_format json_schema
    fenced = ("<think>The trend is up on every timeframe, flow is mixed... {not json}</think>\n"
              "Here is my verdict:\n```json\n" + json.dumps(STRONG) + "\n```\nHope this helps.")
    bare = "Reasoning: looks fine.\n" + json.dumps(EXECUTE) + "\n(end)"
    openai_server.script(SCREENER, answer(fenced, prompt=950, completion=140, local_usage=True))
    openai_server.script(VALIDATOR, answer(bare, prompt=1000, completion=200, local_usage=True))

    run = await ask_ai(ai_chat)

    assert "screener gpt-4o-mini: <b>STRONG</b> 85 · validator gpt-5: <b>EXECUTE</b>" in run.final_text
    first, retried, validator = openai_server.requests
    assert first["response_format"]["type"] == "json_schema" and "response_format" not in retried
    assert "response_format" not in validator  # the adapter remembers the server's limits
    assert "Reply with JSON only" in retried["messages"][0]["content"]
    rows = await ledger_rows(runtime)
    assert [(r.stage, r.outcome, r.attempts) for r in rows] == [(Stage.SCREENER, Outcome.OK, 1),
                                                                (Stage.VALIDATOR, Outcome.OK, 1)]
    assert rows[0].cost_usd == pytest.approx(expected_cost(SCREENER, 950, 140))
    assert rows[1].cost_usd == pytest.approx(expected_cost(VALIDATOR, 1000, 200))


async def test_the_validator_threshold_setting_decides_who_is_validated(ai_chat, openai_server, runtime):
    strong_75 = dict(STRONG, confidence=75)
    await ai_chat.send("/set ai.validator_threshold 80")
    openai_server.script(SCREENER, answer(strong_75))
    below = await ask_ai(ai_chat)
    assert "validator not asked (screener confidence 75 is under 80)" in below.final_text
    assert openai_server.hits(VALIDATOR) == 0

    await ai_chat.send("/set ai.validator_threshold 70")
    openai_server.script(SCREENER, answer(dict(strong_75, reasons=["a fresh look"])))
    openai_server.script(VALIDATOR, answer(EXECUTE))
    above = await ask_ai(ai_chat)
    assert "validator gpt-5: <b>EXECUTE</b>" in above.final_text and openai_server.hits(VALIDATOR) == 1


async def test_free_text_forms_run_the_ai(ai_chat, openai_server, runtime):
    openai_server.default = answer(WEAK)
    by_name = await ask_ai(ai_chat, "Run AI validation on XAUUSD")
    assert by_name.card.text.startswith("<b>XAUUSD</b>") and "<b>WEAK</b> 70" in by_name.final_text

    await ai_chat.send("/analyse EURUSD")
    this_setup = await ask_ai(ai_chat, "GPT check this setup")  # the newest card in this chat
    assert this_setup.card.text.startswith("<b>EURUSD</b>") and "<b>WEAK</b> 70" in this_setup.final_text

    await ai_chat.send(f"/allow {STRANGER_ID} trader")
    [which] = await ai_chat.texts("GPT check this setup", user_id=STRANGER_ID)  # no card in that chat
    assert which.startswith("Which setup? Send /ai SYMBOL")
    await ai_chat.send(f"/allow {STRANGER_ID} viewer")
    [refused] = await ai_chat.texts("Use GPT analysis for BTCUSD", user_id=STRANGER_ID)
    assert "trader" in refused and openai_server.hits() == 2


async def test_auto_screen_checks_the_listed_symbols_cards_by_itself(ai_chat, openai_server, runtime):
    openai_server.default = answer(WEAK)
    plain = await ask_ai(ai_chat, "/analyse BTCUSD")
    assert not plain.edits and "AI" not in plain.card.text.split("<b>Why:</b>")[1] and openai_server.hits() == 0

    await ai_chat.send("/set ai.auto_screen xauusd, BTCUSD")
    screened = await ask_ai(ai_chat, "/analyse BTCUSD")
    assert screened.card.text.endswith("🤖 <i>AI checking…</i>")
    assert "screener gpt-4o-mini: <b>WEAK</b> 70" in screened.final_text and screened.final_buttons == BUTTONS
    other = await ask_ai(ai_chat, "/analyse EURUSD")
    assert not other.edits and openai_server.hits() == 1
