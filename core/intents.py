"""Free-text intents: "Analyse BTCUSD", "check order flow for XAUUSD", "use AI on EURUSD".

A table of patterns, tried in order; the first match wins. Pure and table-tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class IntentKind(StrEnum):
    ANALYSE = "analyse"
    AI_ANALYSE = "ai"
    ORDER_FLOW = "flow"
    WHALES = "whales"
    LEVELS = "sr"
    DEPTH = "depth"
    PRICE = "price"
    HEALTH = "health"
    POSITIONS = "positions"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    symbol: str | None = None


_SYMBOL = r"(?P<symbol>[A-Za-z][A-Za-z0-9./-]{1,14})"
_AI = r"(?:gpt|ai|llm|chatgpt|openai)"
# "check this setup", "review the last signal": the card the trader means (no symbol named)
_THIS_SETUP = (r"(?:check|validate|review|screen)\s+(?:(?:this|that|the|my)\s+)?(?:last\s+|latest\s+)?"
               r"(?:setup|signal|card|trade)")
# (kind, regex) - order matters: specific phrases before the generic "analyse X".
_TABLE: tuple[tuple[IntentKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (IntentKind.AI_ANALYSE, rf"\b(?:use\s+)?(?:gpt|ai|llm|chatgpt|openai)\b.*?\b(?:on|for)\s+{_SYMBOL}\s*$"),
        (IntentKind.AI_ANALYSE, rf"^\s*(?:use\s+)?(?:gpt|ai|llm)\s+(?:analysis\s+)?{_SYMBOL}\s*$"),
        (IntentKind.AI_ANALYSE, rf"^\s*(?:please\s+)?{_AI}\s+{_THIS_SETUP}\s*[.!?]*$"),
        (IntentKind.AI_ANALYSE, rf"^\s*(?:please\s+)?{_THIS_SETUP}\s+(?:with|using|by)\s+{_AI}\s*[.!?]*$"),
        (IntentKind.WHALES, rf"\bwhales?\b.*?\b(?:on|for|in)\s+{_SYMBOL}\s*$"),
        (IntentKind.WHALES, rf"^\s*(?:show\s+)?whales?\s+{_SYMBOL}\s*$"),
        (IntentKind.ORDER_FLOW, rf"\border[\s-]*flow\b.*?\b(?:on|for|of|in)\s+{_SYMBOL}\s*$"),
        (IntentKind.ORDER_FLOW, rf"^\s*(?:check\s+|show\s+)?(?:order[\s-]*)?flow\s+{_SYMBOL}\s*$"),
        (IntentKind.DEPTH, rf"\b(?:depth|order\s*book|book)\b.*?\b(?:on|for|of|in)\s+{_SYMBOL}\s*$"),
        (IntentKind.LEVELS, rf"\b(?:support|resistance|s/r|sr|levels|zones)\b.*?\b(?:on|for|of|in)\s+{_SYMBOL}\s*$"),
        (IntentKind.PRICE, rf"\bprice\b.*?\b(?:of|for|on)\s+{_SYMBOL}\s*\??$"),
        (IntentKind.PRICE, rf"^\s*(?:what(?:'s|\s+is)\s+)?{_SYMBOL}\s+price\s*\??$"),
        (IntentKind.HEALTH, r"^\s*(?:feed\s+)?(?:health|status of (?:the )?feeds?)\s*\??$"),
        (IntentKind.POSITIONS, r"^\s*(?:show\s+)?(?:my\s+)?(?:open\s+)?positions\s*\??$"),
        (IntentKind.HELP, r"^\s*(?:help|what can you do|commands)\s*\??$"),
        (IntentKind.ANALYSE, rf"^\s*(?:please\s+)?(?:analy[sz]e|analysis(?:\s+of|\s+for)?|check|show(?:\s+me)?|"
                             rf"look\s+at|scan|signal(?:\s+for)?|setup(?:\s+for)?)\s+{_SYMBOL}"
                             rf"(?:\s+(?:setup|chart|now|signal|please))*\s*[.!?]*$"),
        (IntentKind.ANALYSE, rf"^\s*{_SYMBOL}\s+(?:setup|analysis|signal)\s*\??$"),
    )
)


def parse_intent(text: str) -> Intent | None:
    """The intent of a plain sentence, or None when it is not one we understand."""
    text = (text or "").strip()
    if not text or text.startswith("/") or len(text) > 200:
        return None
    for kind, pattern in _TABLE:
        match = pattern.search(text)
        if match:
            symbol = match.groupdict().get("symbol")
            return Intent(kind, symbol.upper().rstrip(".?!") if symbol else None)
    return None
