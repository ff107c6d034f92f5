"""Reading the SYMBOL argument of a command, with one clear line when it is missing or unknown."""

from __future__ import annotations

from aiogram.types import Message

from core.market.symbols import SymbolMap
from handlers.html import esc


async def resolve_symbol(message: Message, raw: str | None, symbol_map: SymbolMap, command: str) -> str | None:
    """The trader symbol for ``raw`` (aliases allowed), or None after telling the user why."""
    valid = ", ".join(symbol_map.symbols())
    text = (raw or "").strip().split()[0] if (raw or "").strip() else ""
    if not text:
        await message.answer(f"Which symbol? Usage: /{command} SYMBOL, e.g. /{command} BTCUSD. Valid: {valid}.")
        return None
    symbol = symbol_map.resolve(text)
    if symbol is None:
        await message.answer(f"Unknown symbol {esc(text[:20])}. Valid symbols: {valid}.")
    return symbol
