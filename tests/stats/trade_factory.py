"""Builds ClosedTrade records for the stats tests."""

from __future__ import annotations

from core.models import Direction
from core.stats import ClosedTrade

T0 = 1_700_000_000_000
MINUTE_MS = 60_000


def closed(pnl: float, *, close_min: int = 0, hold_min: int = 30, risk: float = 100.0, symbol: str = "BTCUSD",
           setup: str = "breakout", ticket: int = 1, r_multiple: float | None = None) -> ClosedTrade:
    close_ts_ms = T0 + close_min * MINUTE_MS
    return ClosedTrade(
        approval_id=f"a{ticket}", ticket=ticket, symbol=symbol, direction=Direction.LONG, setup_type=setup,
        entry_price=100.0, exit_price=100.0 + pnl, volume=1.0, realized_pnl=pnl, risk_amount=risk,
        r_multiple=r_multiple, open_ts_ms=close_ts_ms - hold_min * MINUTE_MS, close_ts_ms=close_ts_ms,
        exit_reason="target" if pnl > 0 else "stop",
    )


def sequence(pnls: list[float], **common: object) -> list[ClosedTrade]:
    """One trade per P/L, closed a minute apart in the given order."""
    return [closed(pnl, close_min=i, ticket=i + 1, **common) for i, pnl in enumerate(pnls)]
