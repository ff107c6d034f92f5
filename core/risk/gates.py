"""Gate outcomes and the simple gates: confidence, trading state, open positions, feed, spread, drift."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Allowed:
    """The gate passed; ``note`` may say something worth journaling (e.g. "size 0.12 lots")."""

    gate: str = ""
    note: str = ""
    allowed: ClassVar[bool] = True

    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Denied:
    """The gate refused, with a reason a trader can read."""

    reason: str
    gate: str = ""
    allowed: ClassVar[bool] = False

    def __bool__(self) -> bool:
        return False


GateResult = Allowed | Denied


class TradingState(StrEnum):
    """The kill switch: ACTIVE trades, REDUCING only closes, HALTED does nothing new."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


def check_confidence(confidence: float, min_confidence: float) -> GateResult:
    if confidence < min_confidence:
        return Denied(f"confidence {confidence:g} is below the minimum {min_confidence:g}", "confidence")
    return Allowed("confidence")


def check_trading_state(state: TradingState, paused: bool = False, *, reduces_exposure: bool = False,
                        halted_reason: str = "") -> GateResult:
    """Paused (by an admin) or HALTED refuse everything new; REDUCING allows only reducing trades."""
    if paused:
        return Denied("trading is paused by an admin (/resume to restart)", "trading_state")
    if state is TradingState.HALTED:
        return Denied(f"trading is halted{': ' + halted_reason if halted_reason else ''}", "trading_state")
    if state is TradingState.REDUCING and not reduces_exposure:
        return Denied("trading is reducing exposure: only trades that close or shrink positions",
                      "trading_state")
    return Allowed("trading_state")


def check_open_positions(open_count: int, max_open_positions: int) -> GateResult:
    if open_count >= max_open_positions:
        return Denied(f"{open_count} positions are open; the limit is {max_open_positions}", "open_positions")
    return Allowed("open_positions")


def check_feed_health(status: str | Enum, *, allow_degraded: bool = True) -> GateResult:
    """No trading on a STALE feed (nor on DEGRADED unless allowed); ``status`` is an enum or its text."""
    name = str(status.value if isinstance(status, Enum) else status).upper()
    if name == "OK":
        return Allowed("feed")
    if name == "DEGRADED":
        if allow_degraded:
            return Allowed("feed", "price feed is degraded")
        return Denied("the price feed is degraded; trading waits until it recovers", "feed")
    if name == "STALE":
        return Denied("the price feed is stale; no trading until it recovers", "feed")
    return Denied(f"the price feed status is unknown ({name.lower()})", "feed")


def spread_bps(bid: float, ask: float) -> float:
    mid = (bid + ask) / 2.0
    return (ask - bid) / mid * 10_000.0


def check_spread(bid: float, ask: float, max_spread_bps: float) -> GateResult:
    if not 0 < bid <= ask:
        return Denied(f"no valid quote (bid {bid:g}, ask {ask:g})", "spread")
    spread = spread_bps(bid, ask)
    if spread > max_spread_bps:
        return Denied(f"spread {spread:.1f} bps exceeds limit {max_spread_bps:g} bps", "spread")
    return Allowed("spread")


def check_broker_basis(problem: str) -> GateResult:
    """Broker prices can be compared with the card only once their basis to Binance is known."""
    if problem:
        return Denied(problem, "basis")
    return Allowed("basis")


def check_price_drift(card_price: float, current_price: float, *, max_drift_bps: float = 0.0,
                      atr: float = 0.0,
                      max_drift_atr: float = 0.0) -> GateResult:
    """How far the price moved since the card was issued, in bps and/or ATRs (a limit of 0 is off)."""
    moved = abs(current_price - card_price)
    drift_bps = moved / card_price * 10_000.0
    if max_drift_bps > 0 and drift_bps > max_drift_bps:
        return Denied(f"price moved {drift_bps:.1f} bps since the card (limit {max_drift_bps:g} bps)",
                      "drift")
    if atr > 0 and max_drift_atr > 0 and moved / atr > max_drift_atr:
        return Denied(f"price moved {moved / atr:.2f} ATR since the card (limit {max_drift_atr:g} ATR)",
                      "drift")
    return Allowed("drift")
