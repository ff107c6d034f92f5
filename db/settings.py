"""Persisted runtime setting values and the audit trail of changes."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import SettingChange
from db.tables import SettingAuditRow, SettingValueRow


async def list_setting_values(session: AsyncSession) -> dict[str, str]:
    rows = (await session.exec(select(SettingValueRow))).all()
    return {r.name: r.value for r in rows}


async def upsert_setting_value(session: AsyncSession, change: SettingChange) -> None:
    """Store the new value and append the change to the audit trail."""
    row = await session.get(SettingValueRow, change.name)
    if row is None:
        session.add(SettingValueRow(name=change.name, value=change.new_value, updated_by=change.changed_by,
                                    updated_ts_ms=change.ts_ms))
    else:
        row.value = change.new_value
        row.updated_by = change.changed_by
        row.updated_ts_ms = change.ts_ms
    session.add(SettingAuditRow(name=change.name, old_value=change.old_value, new_value=change.new_value,
                                changed_by=change.changed_by, ts_ms=change.ts_ms))
    await session.flush()


async def list_setting_changes(session: AsyncSession, *, limit: int = 20, name: str | None = None
                               ) -> list[SettingChange]:
    query = select(SettingAuditRow).order_by(col(SettingAuditRow.id).desc()).limit(limit)
    if name:
        query = query.where(SettingAuditRow.name == name)
    rows = (await session.exec(query)).all()
    return [SettingChange(name=r.name, old_value=r.old_value, new_value=r.new_value,
                          changed_by=r.changed_by, ts_ms=r.ts_ms) for r in rows]


class SqlSettingsWriter:
    """Changes a runtime setting the way /set does: validated, stored with its audit entry, live at once."""

    def __init__(self, sessions, tunables, clock) -> None:  # async_sessionmaker, TunableValues, Clock
        self._sessions, self._tunables, self._clock = sessions, tunables, clock

    async def set(self, name: str, value: object, by_user_id: int) -> tuple[str, str]:
        definition = self._tunables.definition(name)
        parsed = definition.parse(value)
        old, new = definition.render(self._tunables[name]), definition.render(parsed)
        async with self._sessions() as session, session.begin():
            await upsert_setting_value(session, SettingChange(name=name, old_value=old, new_value=new,
                                                              changed_by=by_user_id, ts_ms=self._clock.now_ms()))
        self._tunables.set(name, parsed)
        return old, new
