"""/allow, /revoke, /users: admins manage who may use the bot."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Role, User
from core.ports import Clock
from core.users import UserDirectory, parse_role
from db.users import delete_user, list_users, upsert_user
from handlers.html import esc
from handlers.routing import RouterSpec

router = RouterSpec(__name__)
COMMANDS = {"allow", "revoke", "users"}
ADMIN = {"role": Role.ADMIN}
ROLES = ", ".join(r.value for r in Role)


@router.message(Command("allow"), flags=ADMIN)
async def cmd_allow(message: Message, command: CommandObject, user: User, session: AsyncSession,
                    users: UserDirectory, clock: Clock) -> None:
    parts = (command.args or "").split()
    role = parse_role(parts[1]) if len(parts) == 2 else None
    if len(parts) != 2 or not parts[0].lstrip("-").isdigit() or role is None:
        await message.answer(f"Usage: /allow &lt;telegram id&gt; &lt;role&gt;, role is one of {ROLES}.")
        return
    target = int(parts[0])
    if users.is_config_admin(target):
        await message.answer(f"{target} is an admin from TELEGRAM_ADMIN_IDS; change it there.")
        return
    saved = await upsert_user(session, User(telegram_id=target, role=role, added_by=user.telegram_id),
                              ts_ms=clock.now_ms())
    users.put(saved)
    await message.answer(f"User <code>{target}</code> is now <b>{role.value}</b>.")


@router.message(Command("revoke"), flags=ADMIN)
async def cmd_revoke(message: Message, command: CommandObject, session: AsyncSession,
                     users: UserDirectory) -> None:
    arg = (command.args or "").strip()
    if not arg.lstrip("-").isdigit():
        await message.answer("Usage: /revoke &lt;telegram id&gt;")
        return
    target = int(arg)
    if users.is_config_admin(target):
        await message.answer(f"{target} is an admin from TELEGRAM_ADMIN_IDS; remove it there.")
        return
    removed = await delete_user(session, target)
    users.remove(target)
    await message.answer(f"User <code>{target}</code> removed." if removed else f"User {target} was not known.")


@router.message(Command("users"), flags=ADMIN)
async def cmd_users(message: Message, session: AsyncSession, users: UserDirectory) -> None:
    users.load(await list_users(session))
    lines = ["<b>Users</b>"]
    for u in users.all():
        source = " (config)" if u.from_config else ""
        name = f" {esc(u.name)}" if u.name else ""
        lines.append(f"<code>{u.telegram_id}</code>{name} - {u.role.value}{source}")
    await message.answer("\n".join(lines))
