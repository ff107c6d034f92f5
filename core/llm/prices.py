"""Dollar cost of a call from its token usage and a price table (USD per 1M tokens).

Defaults: OpenAI's standard-tier prices as of mid-2026 (docs reference/openai.md §7); re-check
https://developers.openai.com/api/docs/pricing before going live. ``LLM_PRICES`` adds or overrides
entries (``model=input/cached/output;...``; ``0/0/0`` for a free local model). Dated snapshot ids
(``gpt-4.1-mini-2025-04-14``) use their base model's price. A model without a price is refused by
the budget (fail closed) rather than called at an unknown cost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.llm.ports import TokenUsage

PRICES_AS_OF = "2026-06"
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    input_usd_per_m: float
    cached_input_usd_per_m: float
    output_usd_per_m: float

    def cost_usd(self, usage: TokenUsage) -> float:
        fresh = max(0, usage.input_tokens - usage.cached_tokens)
        return (fresh * self.input_usd_per_m + usage.cached_tokens * self.cached_input_usd_per_m
                + usage.output_tokens * self.output_usd_per_m) / 1_000_000


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(2.50, 1.25, 10.00),
    "gpt-4o-mini": ModelPrice(0.15, 0.075, 0.60),
    "gpt-4.1": ModelPrice(2.00, 0.50, 8.00),
    "gpt-4.1-mini": ModelPrice(0.40, 0.10, 1.60),
    "gpt-5": ModelPrice(1.25, 0.125, 10.00),
    "gpt-5-mini": ModelPrice(0.25, 0.025, 2.00),
}


class PriceError(ValueError):
    """``LLM_PRICES`` is malformed; the message says how to write it."""


def parse_prices(text: str) -> dict[str, ModelPrice]:
    """``model=input/cached/output;model2=...`` (USD per 1M tokens) as a table."""
    table: dict[str, ModelPrice] = {}
    for item in filter(None, (part.strip() for part in text.replace(",", ";").split(";"))):
        name, _, numbers = item.partition("=")
        parts = numbers.split("/")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if not name.strip() or len(values) != 3 or any(v < 0 for v in values):
            raise PriceError(f"{item!r} must look like model=input/cached/output in USD per 1M tokens, "
                             "e.g. gpt-4.1-mini=0.40/0.10/1.60")
        table[name.strip()] = ModelPrice(*values)
    return table


class PriceTable:
    def __init__(self, prices: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices = dict(DEFAULT_PRICES if prices is None else prices)

    @classmethod
    def with_overrides(cls, text: str) -> PriceTable:
        return cls({**DEFAULT_PRICES, **parse_prices(text)})

    def price(self, model: str) -> ModelPrice | None:
        return self._prices.get(model) or self._prices.get(_DATED.sub("", model))

    def cost_usd(self, model: str, usage: TokenUsage | None) -> float | None:
        price = self.price(model)
        if price is None:
            return None
        return price.cost_usd(usage) if usage is not None else 0.0

    def worst_case_usd(self, model: str, input_tokens: int, max_output_tokens: int) -> float | None:
        """The most a call can cost: every input token uncached, every output token used."""
        price = self.price(model)
        if price is None:
            return None
        return price.cost_usd(TokenUsage(input_tokens=input_tokens, output_tokens=max_output_tokens))


def estimate_tokens(text: str) -> int:
    """A deliberately high token estimate for budgeting (about 3 characters a token)."""
    return len(text) // 3 + 16
