"""The aiogram Bot: API base URL, HTML by default, long messages split, command menus."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import EditMessageText, SendMessage, SendPhoto, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from core.models import Role
from core.users import UserDirectory
from handlers.catalog import available
from handlers.html import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, split_html

log = logging.getLogger("moneybot.telegram")


class SplitLongMessages(BaseRequestMiddleware):
    """Long texts become several messages (buttons on the last); long edits/captions are cut."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if isinstance(method, SendMessage) and len(method.text) > TELEGRAM_TEXT_LIMIT:
            chunks = split_html(method.text)
            response = None
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                part = method.model_copy(update={"text": chunk, "reply_markup": method.reply_markup if last else None})
                response = await make_request(bot, part)
            return response
        if isinstance(method, EditMessageText) and len(method.text) > TELEGRAM_TEXT_LIMIT:
            method = method.model_copy(update={"text": split_html(method.text, TELEGRAM_TEXT_LIMIT - 2)[0] + "\n…"})
        if isinstance(method, SendPhoto) and method.caption and len(method.caption) > TELEGRAM_CAPTION_LIMIT:
            method = method.model_copy(update={"caption": split_html(method.caption, TELEGRAM_CAPTION_LIMIT - 2)[0]
                                               + "\n…"})
        return await make_request(bot, method)


def make_bot(token: str, *, api_base: str = "", session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    session.middleware(SplitLongMessages())
    return Bot(token, session=session,
               default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True))


async def set_command_menus(bot: Bot, users: UserDirectory, enabled: set[str]) -> None:
    """Telegram's command menu: viewer commands by default, more for traders and admins."""

    def menu(role: Role) -> list[BotCommand]:
        return [BotCommand(command=c.name, description=c.description[:256]) for c in available(role, enabled)
                if c.name != "start"]

    try:
        await bot.set_my_commands(menu(Role.VIEWER), scope=BotCommandScopeDefault())
        for user in users.all():
            if user.role is not Role.VIEWER:
                await bot.set_my_commands(menu(user.role), scope=BotCommandScopeChat(chat_id=user.telegram_id))
    except TelegramAPIError as e:  # a menu is a convenience; never stop start-up for it
        log.warning("could not set the command menu: %s", e)
