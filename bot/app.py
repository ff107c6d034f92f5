"""build_dispatcher: the one place that wires routers, middlewares and services together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Dispatcher

import handlers
from bot.middlewares import DbSessionMiddleware, RoleMiddleware, UserMiddleware

if TYPE_CHECKING:
    from bot.container import Services


def build_dispatcher(services: Services) -> Dispatcher:
    """A Dispatcher with every feature router (fresh ones each time); services reach handlers by name."""
    dp = Dispatcher(enabled_commands=handlers.enabled_commands(), intent_targets=handlers.intent_targets(),
                    **services.by_name())
    dp.update.outer_middleware(DbSessionMiddleware(services.sessions))
    dp.update.outer_middleware(UserMiddleware(services.users))
    dp.message.middleware(RoleMiddleware())
    dp.callback_query.middleware(RoleMiddleware())
    dp.include_routers(*handlers.routers())
    return dp
