"""Notifier adapter: pushes messages to chats outside any update (alerts, expiry, position events)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

log = logging.getLogger("moneybot.notifier")


def _markup(buttons: list[list[tuple[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)
                                                  for label, data in row] for row in buttons])


class TelegramNotifier:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: int, text_html: str, *, buttons: list[list[tuple[str, str]]] | None = None,
                   photo_png: bytes | None = None) -> int | None:
        try:
            message = await self._bot.send_message(chat_id, text_html, reply_markup=_markup(buttons))
            if photo_png:
                await self._bot.send_photo(chat_id, BufferedInputFile(photo_png, "chart.png"))
            return message.message_id
        except TelegramAPIError as e:
            log.warning("could not push to chat %s: %s", chat_id, e)
            return None

    async def edit(self, chat_id: int, message_id: int, text_html: str, *,
                   buttons: list[list[tuple[str, str]]] | None = None) -> None:
        try:
            await self._bot.edit_message_text(text=text_html, chat_id=chat_id, message_id=message_id,
                                              reply_markup=_markup(buttons))
        except TelegramAPIError as e:
            log.warning("could not edit message %s in chat %s: %s", message_id, chat_id, e)
