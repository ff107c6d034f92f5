"""Tunables that belong to no single feature module yet."""

from core.tunables import Tunable

TUNABLES: tuple[Tunable, ...] = (
    Tunable("bot.reply_chart", bool, True, "Send a chart photo after analysis cards"),
)
