"""Every AI failure ends in the regular card plus one line of what failed; the failed call is in the
ledger. Real `openai` client, real HTTP, the scripted server misbehaving on purpose."""

import json

import pytest

from core.llm.ports import Outcome
from tests.llm.conftest import EXECUTE, SCREENER, STRONG, VALIDATOR, ask_ai, expected_cost, ledger_rows
from tests.llm.openai_server import Reply, answer, hang, status

BUTTONS = ["EXECUTE", "WAIT", "REJECT"]


def _note_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("⚠️")]


async def test_malformed_json_is_an_abstention_and_still_paid(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, answer('{"verdict": "STRONG", "confidence": 85, "reasons": ["unfinished',
                                          prompt=900, completion=30))

    run = await ask_ai(ai_chat)

    assert _note_lines(run.final_text) == [
        "⚠️ Screener abstained: the answer held no JSON object; the regular card stands."]
    assert "screener gpt-4o-mini: no verdict" in run.final_text and run.final_buttons == BUTTONS
    assert openai_server.hits(VALIDATOR) == 0
    [row] = await ledger_rows(runtime)
    assert row.outcome is Outcome.ABSTAINED and row.cost_usd == pytest.approx(expected_cost(SCREENER, 900, 30))
    assert row.response_text.startswith('{"verdict"')  # the exact response is kept for /ai why


async def test_schema_violating_json_is_an_abstention_not_a_guess(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, answer({"verdict": "BUY", "confidence": 150, "reasons": []}, prompt=900,
                                          completion=25))

    run = await ask_ai(ai_chat)

    [note] = _note_lines(run.final_text)
    assert note.startswith("⚠️ Screener abstained: the answer broke the schema (verdict:")
    assert "BUY" not in run.final_text.split("🤖")[1].split("⚠️")[0]
    [row] = await ledger_rows(runtime)
    assert row.outcome is Outcome.ABSTAINED and row.cost_usd == pytest.approx(expected_cost(SCREENER, 900, 25))


async def test_a_validator_schema_violation_keeps_the_screener_verdict(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, answer(STRONG, prompt=900, completion=60))
    openai_server.script(VALIDATOR, answer(dict(EXECUTE, decision="MAYBE"), prompt=1000, completion=300))

    run = await ask_ai(ai_chat)

    assert "screener gpt-4o-mini: <b>STRONG</b> 85 · validator gpt-5: no verdict" in run.final_text
    assert _note_lines(run.final_text)[0].startswith("⚠️ Validator abstained: the answer broke the schema (decision")
    assert [r.outcome for r in await ledger_rows(runtime)] == [Outcome.OK, Outcome.ABSTAINED]


async def test_a_500_is_retried_once_then_noted(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, status(500, "upstream exploded"), status(500, "upstream exploded"))

    run = await ask_ai(ai_chat)

    assert openai_server.hits(SCREENER) == 2  # ai.screener_retries = 1
    assert _note_lines(run.final_text) == [
        "⚠️ Screener server error: HTTP 500: upstream exploded; the regular card stands."]
    [row] = await ledger_rows(runtime)  # one call, two attempts, one row, nothing billed
    assert (row.outcome, row.attempts, row.cost_usd) == (Outcome.SERVER_ERROR, 2, 0.0)


async def test_a_429_with_retry_after_waits_within_the_timeout_and_counts_once(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, status(429, "slow down", headers={"retry-after-ms": "300"},
                                          error_type="rate_limit_error"),
                         answer(dict(STRONG, confidence=60), prompt=900, completion=60))

    run = await ask_ai(ai_chat)

    assert "screener gpt-4o-mini: <b>STRONG</b> 60" in run.final_text and not _note_lines(run.final_text)
    [row] = await ledger_rows(runtime)
    assert (row.outcome, row.attempts) == (Outcome.OK, 2)
    assert row.cost_usd == pytest.approx(expected_cost(SCREENER, 900, 60))  # the retry is not a second charge
    assert row.latency_ms >= 300


async def test_a_429_asking_to_wait_past_the_timeout_gives_up_at_once(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, status(429, "slow down", headers={"retry-after": "30"},
                                          error_type="rate_limit_error"))

    run = await ask_ai(ai_chat)

    assert openai_server.hits(SCREENER) == 1
    assert _note_lines(run.final_text) == ["⚠️ Screener rate limited: HTTP 429; retry-after 30s is past the 3s stage "
                                           "timeout; the regular card stands."]
    [row] = await ledger_rows(runtime)
    assert (row.outcome, row.cost_usd) == (Outcome.RATE_LIMITED, 0.0)


async def test_a_hang_past_the_timeout_ends_in_the_regular_card(ai_chat, openai_server, runtime):
    await ai_chat.send("/set ai.screener_timeout_s 1")
    openai_server.script(SCREENER, hang(4))

    run = await ask_ai(ai_chat)

    assert run.calls.index(run.card) < run.calls.index(run.edits[0])  # the card did not wait for the AI
    [note] = _note_lines(run.final_text)
    assert note.startswith("⚠️ Screener timed out:") and note.endswith("the regular card stands.")
    assert run.final_buttons == BUTTONS
    [row] = await ledger_rows(runtime)
    assert row.outcome is Outcome.TIMEOUT and row.latency_ms < 3000


async def test_a_refusal_is_noted(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, Reply(refusal="I can't help with trading decisions.",
                                         usage={"prompt_tokens": 900, "completion_tokens": 12, "total_tokens": 912}))

    run = await ask_ai(ai_chat)

    assert _note_lines(run.final_text) == [
        "⚠️ Screener refused: I can't help with trading decisions; the regular card stands."]
    [row] = await ledger_rows(runtime)
    assert row.outcome is Outcome.REFUSED and row.cost_usd == pytest.approx(expected_cost(SCREENER, 900, 12))


async def test_an_unreachable_server_is_a_connection_note(ai_chat, openai_server, runtime):
    await openai_server.stop()

    run = await ask_ai(ai_chat)

    assert _note_lines(run.final_text)[0].startswith("⚠️ Screener could not connect:")
    rows = await ledger_rows(runtime)
    assert [(r.outcome, r.attempts) for r in rows] == [(Outcome.CONNECTION, 2)]
    assert json.loads(json.dumps(rows[0].detail))  # one readable line
