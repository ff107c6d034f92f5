"""Users and roles."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Role, User
from db.tables import UserRow


def _to_user(row: UserRow) -> User:
    return User(telegram_id=row.telegram_id, role=Role(row.role), name=row.name, added_by=row.added_by)


async def get_user(session: AsyncSession, telegram_id: int) -> User | None:
    row = await session.get(UserRow, telegram_id)
    return _to_user(row) if row else None


async def list_users(session: AsyncSession) -> list[User]:
    rows = (await session.exec(select(UserRow).order_by(UserRow.role, UserRow.telegram_id))).all()
    return [_to_user(r) for r in rows]


async def upsert_user(session: AsyncSession, user: User, *, ts_ms: int) -> User:
    row = await session.get(UserRow, user.telegram_id)
    if row is None:
        row = UserRow(telegram_id=user.telegram_id, role=user.role.value, name=user.name,
                      added_by=user.added_by, created_ts_ms=ts_ms)
        session.add(row)
    else:
        row.role = user.role.value
        row.added_by = user.added_by
        if user.name:
            row.name = user.name
    await session.flush()
    return _to_user(row)


async def delete_user(session: AsyncSession, telegram_id: int) -> bool:
    row = await session.get(UserRow, telegram_id)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True
