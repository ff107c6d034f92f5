"""The catch-alls, included last: unknown commands, unknown text and stale buttons."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, Message

from handlers.html import esc
from handlers.routing import RouterSpec

router = RouterSpec(__name__)
COMMANDS: set[str] = set()


@router.message(F.text.startswith("/"))
async def on_unknown_command(message: Message) -> None:
    word = esc((message.text or "").split()[0][:40])
    await message.answer(f"I don't know the command {word}. Send /help to see what I can do.")


@router.message(F.text)
async def on_unknown_text(message: Message) -> None:
    await message.answer("I didn't understand that. Try <i>Analyse BTCUSD</i>, "
                         "<i>check order flow for XAUUSD</i>, or /help.")


@router.message()
async def on_other_message(message: Message) -> None:
    await message.answer("I only read text messages. Send /help to see what I can do.")


@router.callback_query()
async def on_unknown_callback(query: CallbackQuery) -> None:
    await query.answer("This button is no longer active.", show_alert=False)
