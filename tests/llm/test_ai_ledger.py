"""Budgets stop a call before it is made, replays cost nothing, /costs adds up to the ledger, and
/ai why shows the exact prompt and response."""

import re
from pathlib import Path

import pytest
from aiogram.methods import SendDocument, SendMessage, SendPhoto

from core.events import AiBudgetReached
from core.llm.ports import Outcome
from tests.conftest import ADMIN_ID, STRANGER_ID
from tests.llm.conftest import EXECUTE, SCREENER, STRONG, VALIDATOR, WEAK, ask_ai, expected_cost, ledger_rows
from tests.llm.openai_server import answer


async def test_an_exhausted_budget_skips_the_call_before_it_is_made(ai_chat, openai_server, runtime):
    seen: list[AiBudgetReached] = []
    runtime.services.bus.subscribe("test", seen.append, AiBudgetReached)
    await ai_chat.send("/set ai.daily_budget_usd 0")
    openai_server.script(SCREENER, answer(STRONG))

    first = await ask_ai(ai_chat)
    second = await ask_ai(ai_chat)

    assert openai_server.hits() == 0  # nothing reached the server
    for run in (first, second):
        assert "⚠️ Screener skipped: daily AI budget reached ($0.00 of $0.00); the regular card stands." \
            in run.final_text
    rows = await ledger_rows(runtime)
    assert [(r.outcome, r.cost_usd, r.attempts) for r in rows] == [(Outcome.BUDGET, 0.0, 0)] * 2
    await runtime.services.bus.drain()
    assert [(e.period, e.budget_usd) for e in seen] == [("day", 0.0)]  # one alert per period
    alerts = [c for c in ai_chat.session.calls if isinstance(c, SendMessage) and "AI budget is reached" in c.text]
    assert [a.chat_id for a in alerts] == [ADMIN_ID]


async def test_the_budget_counts_spend_and_stops_when_the_next_call_could_exceed_it(ai_chat, openai_server, runtime):
    # the first review spends ~$0.0002; a validator call's worst case (~$0.03) no longer fits
    await ai_chat.send("/set ai.daily_budget_usd 0.01")
    openai_server.script(SCREENER, answer(STRONG, prompt=900, completion=60), answer(dict(STRONG, reasons=["b"])))
    run = await ask_ai(ai_chat)
    assert "⚠️ Validator skipped: daily AI budget reached" in run.final_text
    assert openai_server.hits(VALIDATOR) == 0 and openai_server.hits(SCREENER) == 1
    await ai_chat.send("/set ai.daily_budget_usd 5")
    openai_server.script(VALIDATOR, answer(EXECUTE))
    await ai_chat.send("/set ai.screener_max_tokens 301")  # a different prompt, not the cached one
    again = await ask_ai(ai_chat)
    assert "validator gpt-5: <b>EXECUTE</b>" in again.final_text


async def test_a_second_run_over_the_same_inputs_costs_nothing(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, answer(STRONG, prompt=900, completion=60))
    openai_server.script(VALIDATOR, answer(EXECUTE, prompt=1100, completion=500))
    first = await ask_ai(ai_chat)
    hits = openai_server.hits()

    second = await ask_ai(ai_chat)  # the market has not moved: the same prompts

    assert openai_server.hits() == hits == 2  # no HTTP call the second time
    verdicts = "screener gpt-4o-mini: <b>STRONG</b> 85 · validator gpt-5: <b>EXECUTE</b>"
    assert verdicts in first.final_text and verdicts in second.final_text
    assert re.search(r"<i>\$0 · [\d.]+ s · /ai why [0-9a-f]{8}</i>", second.final_text)
    rows = await ledger_rows(runtime)
    assert [r.outcome for r in rows] == [Outcome.OK, Outcome.OK, Outcome.CACHED, Outcome.CACHED]
    assert [r.cost_usd for r in rows[2:]] == [0.0, 0.0] and rows[2].response_text == rows[0].response_text


async def test_costs_totals_equal_the_ledger(ai_chat, openai_server, runtime):
    openai_server.script(SCREENER, answer(STRONG, prompt=900, completion=60, cached=256),
                         answer(WEAK, prompt=950, completion=40))
    openai_server.script(VALIDATOR, answer(EXECUTE, prompt=1100, completion=800, reasoning=500))
    await ask_ai(ai_chat)
    await ai_chat.send("/set ai.screener_max_tokens 299")  # a second, different review
    await ask_ai(ai_chat, "/ai BTCUSD")

    calls = await ai_chat.send("/costs 3")

    rows = await ledger_rows(runtime)
    total = sum(r.cost_usd for r in rows)
    assert total == pytest.approx(expected_cost(SCREENER, 900, 60, cached=256) + expected_cost(SCREENER, 950, 40)
                                  + expected_cost(VALIDATOR, 1100, 800))
    [text] = [c.text for c in calls if isinstance(c, SendMessage)]
    assert f"Total <b>${total:.4f}</b> · 3 calls · 2 analyses · ${total / 2:.4f} per analysis" in text
    screener_usd = sum(r.cost_usd for r in rows if r.stage.value == "screener")
    assert f"screener ${screener_usd:.6f} (2 calls)" in text or f"screener ${screener_usd:.4f} (2 calls)" in text
    assert "Validator calls saved by the screener: <b>1</b>" in text
    [photo] = [c for c in calls if isinstance(c, SendPhoto)]
    assert photo.photo.data[:8] == b"\x89PNG\r\n\x1a\n"
    await ai_chat.send(f"/allow {STRANGER_ID} trader")
    [refused] = await ai_chat.texts("/costs", user_id=STRANGER_ID)
    assert "needs the <b>admin</b> role" in refused


async def test_ai_why_shows_the_exact_prompt_and_response(ai_chat, openai_server, runtime, tmp_path):
    openai_server.script(SCREENER, answer(WEAK, prompt=900, completion=40))
    run = await ask_ai(ai_chat)
    review_id = re.search(r"/ai why ([0-9a-f]{8})", run.final_text).group(1)

    calls = await ai_chat.send(f"/ai why {review_id}")

    [head] = [c.text for c in calls if isinstance(c, SendMessage)]
    assert f"<b>AI review {review_id}</b> · BTCUSD" in head and "screener gpt-4o-mini: ok · 900 in" in head
    [document] = [c for c in calls if isinstance(c, SendDocument)]
    saved = next(Path(p) for p in tmp_path.rglob(f"*ai-why-{review_id}.txt"))
    content = saved.read_text()
    [request] = openai_server.requests
    assert request["messages"][0]["content"] in content and request["messages"][1]["content"] in content
    assert content.split("----- response -----\n")[1].startswith('{"verdict": "WEAK"')
    assert document.document.filename == f"ai-why-{review_id}.txt"
    await ai_chat.send(f"/allow {STRANGER_ID} trader")
    [refused] = await ai_chat.texts(f"/ai why {review_id}", user_id=STRANGER_ID)
    assert "admin" in refused and "prompts" in refused
