"""/settings and /set: the runtime-tunable thresholds, with validation and an audit trail."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from core.bus import EventBus
from core.events import SettingChanged
from core.models import Role, SettingChange, User
from core.ports import Clock
from core.tunables import TunableError, TunableValues
from db.settings import upsert_setting_value
from handlers.html import esc
from handlers.routing import RouterSpec

router = RouterSpec(__name__)
COMMANDS = {"settings", "set"}
ADMIN = {"role": Role.ADMIN}


def render_settings(values: TunableValues, group: str = "") -> str:
    definitions = [t for t in values.definitions() if not group or t.group == group]
    if not definitions:
        groups = sorted({t.group for t in values.definitions()})
        return f"No settings in group {esc(group)!s}. Groups: {', '.join(groups)}."
    lines = ["<b>Runtime settings</b> (change with /set NAME VALUE)"]
    current = ""
    for t in definitions:
        if t.group != current:
            current = t.group
            lines.append(f"\n<b>{esc(current)}</b>")
        unit = f" {esc(t.unit)}" if t.unit else ""
        restart = " <i>(restart to apply)</i>" if t.restart_only else ""
        lines.append(f"<code>{esc(t.name)}</code> = <b>{esc(t.render(values[t.name]))}</b>{unit}"
                     f" - {esc(t.description)}{restart}")
    return "\n".join(lines)


@router.message(Command("settings"), flags=ADMIN)
async def cmd_settings(message: Message, command: CommandObject, tunables: TunableValues) -> None:
    await message.answer(render_settings(tunables, (command.args or "").strip().lower()))


@router.message(Command("set"), flags=ADMIN)
async def cmd_set(message: Message, command: CommandObject, user: User, session: AsyncSession,
                  tunables: TunableValues, clock: Clock, bus: EventBus) -> None:
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2:
        await message.answer("Usage: /set NAME VALUE, e.g. <code>/set risk.min_confidence 65</code>. "
                             "See /settings for names.")
        return
    name, raw = parts[0].strip().lower(), parts[1].strip()
    try:
        definition = tunables.definition(name)
        value = definition.parse(raw)
    except TunableError as e:
        await message.answer(f"Not changed: {esc(e)}")
        return
    old = definition.render(tunables[name])
    new = definition.render(value)
    await upsert_setting_value(session, SettingChange(name=name, old_value=old, new_value=new,
                                                      changed_by=user.telegram_id, ts_ms=clock.now_ms()))
    tunables.set(name, value)
    live = not definition.restart_only
    bus.publish(SettingChanged(ts_ms=clock.now_ms(), name=name, old_value=old, new_value=new,
                               by_user_id=user.telegram_id, live=live))
    when = "applies now" if live else "<b>takes effect after a restart</b> (read once at start)"
    await message.answer(f"<code>{esc(name)}</code>: {esc(old)} → <b>{esc(new)}</b> ({when})")
