"""Middlewares: a DB session per update, the current user, role checks, the chat action."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.models import Role, User
from core.users import UserDirectory

log = logging.getLogger("moneybot.access")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """One session and one transaction per update: commit on success, roll back on error."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._sessions() as session, session.begin():
            data["session"] = session
            return await handler(event, data)


class UserMiddleware(BaseMiddleware):
    """Puts the known ``user`` (or None) into the handler data, from the in-memory directory."""

    def __init__(self, users: UserDirectory) -> None:
        self._users = users

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user = data.get("event_from_user")
        data["user"] = self._users.lookup(tg_user.id) if tg_user else None
        return await handler(event, data)


def refusal_text(telegram_id: int) -> str:
    return ("Sorry, I only work for people my admins have added.\n"
            f"Your Telegram id is <code>{telegram_id}</code>. Ask an admin to send "
            f"<code>/allow {telegram_id} viewer</code> (or <code>trader</code>).")


class RoleMiddleware(BaseMiddleware):
    """Inner middleware: the handler's ``role`` flag (default viewer) must be met by the user.

    Unknown users are refused politely with their id; a known user without the role is told
    which role is needed. Works for messages and callback buttons alike.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        needed: Role = get_flag(data, "role", default=Role.VIEWER)
        user: User | None = data.get("user")
        tg_user = data.get("event_from_user")
        if user is not None and user.role.allows(needed):
            return await handler(event, data)
        if user is None:
            text = refusal_text(tg_user.id if tg_user else 0)
        else:
            text = f"That needs the <b>{needed.value}</b> role; you are a {user.role.value}."
        log.info("refused user %s (role %s) for a %s action", tg_user.id if tg_user else None,
                 user.role.value if user else "unknown", needed.value)
        if isinstance(event, CallbackQuery):
            await event.answer(_plain(text)[:200], show_alert=True)
        elif isinstance(event, Message):
            await event.answer(text)
        return None


def _plain(text: str) -> str:
    for tag in ("<code>", "</code>", "<b>", "</b>"):
        text = text.replace(tag, "")
    return text


class UpdateLogMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and log.isEnabledFor(logging.DEBUG):
            log.debug("update %s %s", event.update_id, event.event_type)
        return await handler(event, data)
