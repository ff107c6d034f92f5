"""The command catalogue: one table drives /help, Telegram's command menu and role checks."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Role


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str
    args: str
    description: str
    group: str
    role: Role


GROUPS = ("Analyse a market", "Order flow and levels", "Trade", "Market data", "Admin", "Help")

COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("analyse", "SYMBOL", "signal card with plan, zones and order flow", GROUPS[0], Role.VIEWER),
    CommandInfo("ai", "SYMBOL", "the card, then an AI second opinion on it (costs money)", GROUPS[0], Role.TRADER),
    CommandInfo("flow", "SYMBOL", "order flow: imbalance, whales, pressure", GROUPS[1], Role.VIEWER),
    CommandInfo("sr", "SYMBOL", "support/resistance zones and chart", GROUPS[1], Role.VIEWER),
    CommandInfo("depth", "SYMBOL", "order book depth chart", GROUPS[1], Role.VIEWER),
    CommandInfo("positions", "", "open positions with live P/L", GROUPS[2], Role.VIEWER),
    CommandInfo("close", "TICKET", "close a position", GROUPS[2], Role.TRADER),
    CommandInfo("journal", "[n]", "the last trades and decisions", GROUPS[2], Role.VIEWER),
    CommandInfo("stats", "[days]", "win rate, profit factor, drawdown", GROUPS[2], Role.VIEWER),
    CommandInfo("status", "", "trading state, limits and account", GROUPS[2], Role.VIEWER),
    CommandInfo("price", "SYMBOL", "last price, source and age", GROUPS[3], Role.VIEWER),
    CommandInfo("health", "", "market feed health", GROUPS[3], Role.VIEWER),
    CommandInfo("pause", "", "stop all new trades", GROUPS[4], Role.ADMIN),
    CommandInfo("resume", "", "allow trading again", GROUPS[4], Role.ADMIN),
    CommandInfo("settings", "[group]", "runtime settings and their values", GROUPS[4], Role.ADMIN),
    CommandInfo("set", "NAME VALUE", "change a runtime setting", GROUPS[4], Role.ADMIN),
    CommandInfo("costs", "[days]", "AI spend by day, stage and model, with a chart", GROUPS[4], Role.ADMIN),
    CommandInfo("users", "", "who may use the bot", GROUPS[4], Role.ADMIN),
    CommandInfo("allow", "ID ROLE", "let a user in (viewer, trader, admin)", GROUPS[4], Role.ADMIN),
    CommandInfo("revoke", "ID", "remove a user", GROUPS[4], Role.ADMIN),
    CommandInfo("help", "", "what I can do for you", GROUPS[5], Role.VIEWER),
    CommandInfo("start", "", "welcome and your role", GROUPS[5], Role.VIEWER),
)
ALIASES = {"analyze": "analyse"}


def available(role: Role, enabled: set[str] | None = None) -> list[CommandInfo]:
    """Commands a role may use (optionally only those whose feature is enabled)."""
    return [c for c in COMMANDS if role.allows(c.role) and (enabled is None or c.name in enabled)]


def role_for(command: str) -> Role:
    name = ALIASES.get(command, command)
    for c in COMMANDS:
        if c.name == name:
            return c.role
    return Role.VIEWER
