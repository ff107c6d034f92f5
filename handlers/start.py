"""/start and /help: who you are and what you can do, grouped by intent."""

from __future__ import annotations

from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from core.models import User
from handlers.catalog import GROUPS, available
from handlers.html import esc
from handlers.routing import RouterSpec

router = RouterSpec(__name__)
COMMANDS = {"start", "help"}


def render_help(user: User, enabled: set[str]) -> str:
    lines = [f"<b>MoneyBot</b> - you are <b>{user.role.value}</b>."]
    commands = available(user.role, enabled)
    for group in GROUPS:
        in_group = [c for c in commands if c.group == group]
        if not in_group:
            continue
        lines.append(f"\n<b>{group}</b>")
        lines += [f"/{c.name}{' ' + esc(c.args) if c.args else ''} - {esc(c.description)}" for c in in_group]
    lines.append("\nOr just write: <i>Analyse BTCUSD</i>, <i>check order flow for XAUUSD</i>.")
    return "\n".join(lines)


@router.message(CommandStart())
async def cmd_start(message: Message, user: User, enabled_commands: set[str], data_source_label: str) -> None:
    name = esc(message.from_user.first_name if message.from_user else "trader")
    feed = f"\nMarket data: <b>{esc(data_source_label)}</b>." if data_source_label else ""
    await message.answer(f"Welcome, {name}!{feed}\n\n" + render_help(user, enabled_commands))


@router.message(Command("help"))
async def cmd_help(message: Message, user: User, enabled_commands: set[str]) -> None:
    await message.answer(render_help(user, enabled_commands))
