"""The foundation every command needs, market or not: the database (migrated), users, settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.config import ConfigError, Settings
from core.ports import Clock, SystemClock
from core.tunables import TunableValues, catalog
from core.users import UserDirectory
from db.engine import make_engine, make_sessions, redact_url
from db.migrate import upgrade
from db.settings import list_setting_values
from db.users import list_users

log = logging.getLogger("moneybot.runtime")


@dataclass(frozen=True, slots=True)
class Foundation:
    """The database, users and runtime settings: what every command needs, market or not."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker
    users: UserDirectory
    tunables: TunableValues

    async def close(self) -> None:
        await self.engine.dispose()


async def open_foundation(settings: Settings, *, clock: Clock | None = None,
                          extra_admin_ids: tuple[int, ...] = ()) -> Foundation:
    """Open (and migrate) the database, load users and stored settings."""
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
    return Foundation(settings, clock, engine, sessions, users, tunables)
