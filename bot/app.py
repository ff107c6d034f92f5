"""build_dispatcher: the one place that wires routers, middlewares and services together."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import async_sessionmaker

import handlers
from bot.middlewares import DbSessionMiddleware, RoleMiddleware, UserMiddleware
from core.ports import Clock
from core.tunables import TunableValues
from core.users import UserDirectory


def build_dispatcher(*, sessions: async_sessionmaker, users: UserDirectory, tunables: TunableValues,
                     clock: Clock, data_source_label: str = "", **services: Any) -> Dispatcher:
    """A Dispatcher with every feature router; ``services`` reach handlers by name."""
    dp = Dispatcher(users=users, tunables=tunables, clock=clock, data_source_label=data_source_label,
                    enabled_commands=handlers.enabled_commands(), intent_targets=handlers.intent_targets(),
                    **services)
    dp.update.outer_middleware(DbSessionMiddleware(sessions))
    dp.update.outer_middleware(UserMiddleware(users))
    dp.message.middleware(RoleMiddleware())
    dp.callback_query.middleware(RoleMiddleware())
    for router in handlers.routers():
        # Routers are module-level (one per feature module); a process that builds several
        # dispatchers (tests, console + webhook) re-attaches them to the newest one.
        router._parent_router = None
        dp.include_router(router)
    return dp
