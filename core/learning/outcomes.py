"""One resolved trade in R, whatever book it came from (shadow, backtest, real), and how it is classified."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.stats import ClosedTrade


class Outcome(StrEnum):
    WIN = "win"
    LOSS = "loss"
    BREAKEVEN = "breakeven"
    EXPIRED = "expired"  # not resolved within the horizon: closed at the last price (its R still counts)


@dataclass(frozen=True, slots=True)
class TradeResult:
    """A closed trade in R. ``key`` identifies it (and breaks ties of the same close millisecond);
    ``tags`` are its slicing dimensions (setup_type, symbol, direction, decision, ...)."""

    key: str
    open_ts_ms: int
    close_ts_ms: int
    r: float
    outcome: Outcome
    pnl_pct: float = 0.0
    tags: tuple[tuple[str, str], ...] = ()

    def tag(self, name: str) -> str | None:
        return next((value for key, value in self.tags if key == name), None)


def classify(r: float, *, expired: bool = False, breakeven_r: float = 0.05) -> Outcome:
    """WIN above ``breakeven_r``, LOSS below its negative, BREAKEVEN between; EXPIRED wins over both."""
    if expired:
        return Outcome.EXPIRED
    if r > breakeven_r:
        return Outcome.WIN
    if r < -breakeven_r:
        return Outcome.LOSS
    return Outcome.BREAKEVEN


def result_from_closed_trade(trade: ClosedTrade, *, breakeven_r: float = 0.05) -> TradeResult | None:
    """A real (or backtest) ``ClosedTrade`` as a result in R; None when its R is unknown."""
    r = trade.r
    if r is None:
        return None
    pnl_pct = trade.direction.sign * (trade.exit_price / trade.entry_price - 1.0) * 100.0 \
        if trade.entry_price > 0 else 0.0
    tags = (("symbol", trade.symbol), ("direction", trade.direction.value),
            ("setup_type", trade.setup_type or "unspecified"), *trade.tags)
    return TradeResult(key=f"{trade.ticket}", open_ts_ms=trade.open_ts_ms, close_ts_ms=trade.close_ts_ms, r=r,
                       outcome=classify(r, breakeven_r=breakeven_r), pnl_pct=pnl_pct, tags=_unique(tags))


def _unique(tags: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for name, value in tags:
        seen.setdefault(name, value)
    return tuple(seen.items())
