"""Fixtures for the AI stage: the scripted OpenAI-compatible server and an app that uses it."""

from dataclasses import dataclass

import pytest
from aiogram.methods import EditMessageText, SendMessage

from bot.config import load_settings
from tests.conftest import LOOSE_SETTINGS, make_env, warm_market
from tests.llm.openai_server import ScriptedOpenAI

SCREENER = "gpt-4o-mini"
VALIDATOR = "gpt-5"
# USD per 1M tokens (input, cached input, output), copied from ../shared/reference/openai.md §7
REFERENCE_PRICES = {"gpt-4o-mini": (0.15, 0.075, 0.60), "gpt-5": (1.25, 0.125, 10.00)}


def expected_cost(model: str, prompt: int, completion: int, cached: int = 0) -> float:
    p_in, p_cached, p_out = REFERENCE_PRICES[model]
    return ((prompt - cached) * p_in + cached * p_cached + completion * p_out) / 1_000_000


@pytest.fixture
async def openai_server():
    server = await ScriptedOpenAI().start()
    yield server
    await server.stop()


@pytest.fixture
def settings(tmp_path, openai_server):
    return load_settings(make_env(tmp_path, OPENAI_API_KEY="test-key", OPENAI_BASE_URL=openai_server.base_url,
                                  LLM_SCREENER_MODEL=SCREENER, LLM_VALIDATOR_MODEL=VALIDATOR))


@pytest.fixture
async def ai_chat(chat, runtime, clock):
    """A chat whose cards always carry a plan, no chart photos, fast AI timeouts."""
    warm_market(runtime, clock)
    for setting in (*LOOSE_SETTINGS, "bot.reply_chart false", "ai.screener_timeout_s 3",
                    "ai.validator_timeout_s 3"):
        await chat.send(f"/set {setting}")
    return chat


STRONG = {"verdict": "STRONG", "confidence": 85, "reasons": ["trend up on 1h/4h/1d", "support holds below"]}
WEAK = {"verdict": "WEAK", "confidence": 70, "reasons": ["order flow disagrees", "RSI stretched"]}
EXECUTE = {"decision": "EXECUTE", "reasoning": "Trend and structure agree; the stop sits below support.",
           "invalidation_price": None, "risks": ["a fast reversal at the open"], "entry": None, "stop": None,
           "target": None}


@dataclass
class AiRun:
    """One /ai request: what was sent first, how the card was edited, and the final card."""

    calls: list
    card: SendMessage
    edits: list[EditMessageText]
    final_text: str
    final_buttons: list[str]


async def ask_ai(chat, text: str = "/ai BTCUSD") -> AiRun:
    calls = await chat.send(text)
    card = next(c for c in calls if isinstance(c, SendMessage))
    edits = [c for c in calls if isinstance(c, EditMessageText)]
    card_id = edits[-1].message_id if edits else max(m for m, msg in chat.session.messages.items()
                                                     if msg.get("text") == card.text)
    message = chat.session.messages[card_id]
    return AiRun(calls, card, edits, message["text"], [label for label, _ in chat.session.buttons(message)])


async def ledger_rows(runtime) -> list:
    return await runtime.services.ai_ledger.list_calls(0)
