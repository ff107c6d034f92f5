"""Plain sentences ("Analyse BTCUSD", "check order flow for XAUUSD") routed to the features.

Each feature module may export ``INTENT_HANDLERS = {"<command>": async fn(message, symbol, data)}``;
``handlers.intent_targets()`` gathers them. An intent whose feature is not built yet gets an honest
"not available yet" answer, never fake output.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F
from aiogram.types import Message

from core.intents import IntentKind, parse_intent
from handlers.html import esc
from handlers.routing import RouterSpec

router = RouterSpec(__name__)
COMMANDS: set[str] = set()

IntentTarget = Callable[[Message, str | None, dict[str, Any]], Awaitable[None]]

INTENT_COMMAND: dict[IntentKind, str] = {
    IntentKind.ANALYSE: "analyse",
    IntentKind.AI_ANALYSE: "ai",
    IntentKind.ORDER_FLOW: "flow",
    IntentKind.WHALES: "whales",
    IntentKind.LEVELS: "sr",
    IntentKind.DEPTH: "depth",
    IntentKind.PRICE: "price",
    IntentKind.HEALTH: "health",
    IntentKind.POSITIONS: "positions",
    IntentKind.HELP: "help",
}
FEATURE_NAMES = {"ai": "AI analysis", "whales": "Whale activity", "flow": "Order flow", "analyse": "Analysis",
                 "sr": "Support/resistance", "depth": "Depth charts", "price": "Prices", "health": "Feed health",
                 "positions": "Positions", "help": "Help"}


@router.message(F.text.func(lambda text: parse_intent(text) is not None))
async def on_intent(message: Message, intent_targets: dict[str, IntentTarget], **data: Any) -> None:
    intent = parse_intent(message.text or "")
    assert intent is not None
    name = INTENT_COMMAND[intent.kind]
    target = intent_targets.get(name)
    if target is None:
        feature = FEATURE_NAMES.get(name, name)
        about = f" for {esc(intent.symbol)}" if intent.symbol else ""
        await message.answer(f"{feature}{about} is not available yet in this version of MoneyBot.")
        return
    await target(message, intent.symbol, {"intent_targets": intent_targets, **data})
