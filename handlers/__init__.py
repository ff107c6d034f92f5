"""aiogram routers, one module per feature. ``routers()`` fixes their order; catch-alls last."""

from __future__ import annotations

from types import ModuleType

from aiogram import Router


def _modules() -> list[ModuleType]:
    from handlers import errors, fallback, intents, settings_admin, start, users_admin

    features = [start, users_admin, settings_admin]
    for name in ("market", "analysis", "trading", "journal", "ai"):
        try:
            features.append(__import__(f"handlers.{name}", fromlist=["router"]))
        except ModuleNotFoundError as e:
            if e.name != f"handlers.{name}":
                raise
    return [errors, *features, intents, fallback]


def routers() -> list[Router]:
    return [m.router.make() for m in _modules()]


def enabled_commands() -> set[str]:
    names: set[str] = set()
    for module in _modules():
        names |= set(getattr(module, "COMMANDS", ()))
    return names


def intent_targets() -> dict:
    targets: dict = {}
    for module in _modules():
        targets.update(getattr(module, "INTENT_HANDLERS", {}))
    return targets
