"""Migrations from empty to head, on SQLite and on the CI PostgreSQL; restarts keep rows."""

import pytest

from core.models import Role, User
from db.engine import make_engine, make_sessions
from db.migrate import current_revision, head_revision, upgrade
from db.users import get_user, upsert_user


async def _round_trip(url: str) -> None:
    engine = make_engine(url)
    try:
        assert await current_revision(engine) == ""
        assert await upgrade(engine) == head_revision()
        sessions = make_sessions(engine)
        async with sessions() as session, session.begin():
            await upsert_user(session, User(telegram_id=7_000_000_001, role=Role.TRADER), ts_ms=1)
        # starting again on an already-migrated database is a no-op and loses nothing
        assert await upgrade(engine) == head_revision()
        async with sessions() as session:
            user = await get_user(session, 7_000_000_001)
        assert user is not None and user.role is Role.TRADER
    finally:
        await engine.dispose()


async def test_sqlite_upgrade_from_empty_and_restart(tmp_path):
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path}/m.db")


@pytest.mark.postgres
async def test_postgres_upgrade_from_empty_and_restart(postgres_database):
    await _round_trip(postgres_database)


@pytest.mark.postgres
async def test_app_runs_on_postgres(postgres_database, tmp_path, clock):
    from bot.config import load_settings
    from bot.foundation import open_foundation
    from tests.conftest import make_env

    settings = load_settings(make_env(tmp_path, DATABASE_URL=postgres_database))
    runtime = await open_foundation(settings, clock=clock)
    try:
        async with runtime.sessions() as session, session.begin():
            await upsert_user(session, User(telegram_id=5, role=Role.VIEWER), ts_ms=1)
    finally:
        await runtime.close()
    again = await open_foundation(settings, clock=clock)
    try:
        assert again.users.lookup(5) is not None
    finally:
        await again.close()
