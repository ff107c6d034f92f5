"""Feature services the runtime starts (market data, analysis, broker): filled in per feature."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def start_services(runtime: Runtime) -> None:
    """Start market data and the other long-lived services; register them for the handlers."""
    return None
