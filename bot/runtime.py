"""The composition root: builds every service from Settings and owns their lifecycle."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.app import build_dispatcher
from bot.config import ConfigError, Settings
from core.ports import Clock, SystemClock
from core.tunables import TunableValues, catalog
from core.users import UserDirectory
from db.engine import make_engine, make_sessions, redact_url
from db.migrate import upgrade
from db.settings import list_setting_values
from db.users import list_users

log = logging.getLogger("moneybot.runtime")


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker
    users: UserDirectory
    tunables: TunableValues
    services: dict[str, Any] = field(default_factory=dict)
    data_source_label: str = ""
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    pending_notes: list[str] = field(default_factory=list)  # told to the admins once the bot exists
    run_jobs: bool = True

    def dispatcher(self) -> Dispatcher:
        return build_dispatcher(sessions=self.sessions, users=self.users, tunables=self.tunables,
                                clock=self.clock, data_source_label=self.data_source_label, settings=self.settings,
                                **self.services)

    async def attach_bot(self, bot: Bot) -> None:
        """Start what needs the bot (notifier, scheduled jobs) once it exists."""
        from bot.services import attach_notifier

        await attach_notifier(self, bot)

    async def close(self) -> None:
        await self.stack.aclose()
        await self.engine.dispose()


async def build_runtime(settings: Settings, *, clock: Clock | None = None, extra_admin_ids: tuple[int, ...] = (),
                        start_market: bool = True, run_jobs: bool = True) -> Runtime:
    """Open the database (migrating it), load users and settings, and start the services."""
    clock = clock or SystemClock()
    tunables = TunableValues(catalog())
    errors = tunables.apply(settings.tunable_overrides)
    if errors:
        raise ConfigError(f"MONEYBOT_CONFIG: {errors[0]}")
    engine = make_engine(settings.async_database_url)
    try:
        revision = await upgrade(engine)
    except Exception as e:
        await engine.dispose()
        raise ConfigError(f"DATABASE_URL: cannot open or migrate {redact_url(settings.async_database_url)}: "
                          f"{type(e).__name__}: {str(e).splitlines()[0][:160]}") from None
    log.info("database %s at revision %s", redact_url(settings.async_database_url), revision)
    sessions = make_sessions(engine)
    users = UserDirectory([*settings.admin_ids, *extra_admin_ids])
    async with sessions() as session:
        users.load(await list_users(session))
        for problem in tunables.apply(await list_setting_values(session)):
            log.warning("ignoring a stored setting: %s", problem)
    runtime = Runtime(settings=settings, clock=clock, engine=engine, sessions=sessions, users=users,
                      tunables=tunables, run_jobs=run_jobs)
    if start_market:
        from bot.services import start_services

        await start_services(runtime)
    return runtime
