"""Daily loss circuit breaker: realised + open loss since the day's start against start equity.

Pure: the caller persists ``BreakerState`` (one row) and feeds it back with each evaluation. A
trading day starts at ``rollover_hour_utc``; a trip halts trading until the next day starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.risk.gates import Allowed, Denied, GateResult

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class DailyLoss:
    loss_pct: float  # positive when losing
    limit_pct: float

    @property
    def tripped(self) -> bool:
        return self.loss_pct >= self.limit_pct

    def describe(self) -> str:
        verb = "exceeds" if self.tripped else "within"
        return f"daily loss {self.loss_pct:.1f}% {verb} limit {self.limit_pct:g}%"


def daily_loss(start_equity: float, realized_pnl_today: float, open_pnl_today: float,
               limit_pct: float) -> DailyLoss:
    """Loss since the day's start: realised P/L of today's closes plus the change in open P/L."""
    loss = -(realized_pnl_today + open_pnl_today)
    loss_pct = loss / start_equity * 100.0 if start_equity > 0 else 0.0
    return DailyLoss(loss_pct=loss_pct, limit_pct=limit_pct)


def check_daily_loss(start_equity: float, realized_pnl_today: float, open_pnl_today: float,
                     limit_pct: float) -> GateResult:
    loss = daily_loss(start_equity, realized_pnl_today, open_pnl_today, limit_pct)
    return Denied(loss.describe(), "daily_loss") if loss.tripped else Allowed("daily_loss", loss.describe())


def trading_day_start_ms(now_ms: int, rollover_hour_utc: int = 0) -> int:
    offset = rollover_hour_utc * HOUR_MS
    return (now_ms - offset) // DAY_MS * DAY_MS + offset


def next_trading_day_ms(now_ms: int, rollover_hour_utc: int = 0) -> int:
    return trading_day_start_ms(now_ms, rollover_hour_utc) + DAY_MS


@dataclass(frozen=True, slots=True)
class BreakerState:
    day_start_ms: int
    start_equity: float
    start_open_pnl: float = 0.0  # open P/L carried into the day; only its change counts
    halted_until_ms: int = 0

    def halted(self, now_ms: int) -> bool:
        return now_ms < self.halted_until_ms


@dataclass(frozen=True, slots=True)
class BreakerUpdate:
    state: BreakerState
    loss: DailyLoss
    tripped_now: bool  # True once, on the evaluation that trips: push the alert then


def update_breaker(state: BreakerState | None, *, now_ms: int, equity: float, realized_pnl_today: float,
                   open_pnl: float, limit_pct: float, rollover_hour_utc: int = 0) -> BreakerUpdate:
    """Start a new day when one began, then trip if today's loss reaches the limit.

    ``realized_pnl_today`` covers closes since ``trading_day_start_ms(now_ms, rollover_hour_utc)``.
    A new day's baseline is the equity before today's closes and the open P/L as it is now (open
    P/L moves between the rollover and this first evaluation are not seen, so evaluate often).
    """
    day_start = trading_day_start_ms(now_ms, rollover_hour_utc)
    if state is None or state.day_start_ms < day_start:
        state = BreakerState(day_start_ms=day_start, start_equity=equity - realized_pnl_today,
                             start_open_pnl=open_pnl)
    loss = daily_loss(state.start_equity, realized_pnl_today, open_pnl - state.start_open_pnl, limit_pct)
    if loss.tripped and not state.halted(now_ms):
        halted = BreakerState(state.day_start_ms, state.start_equity, state.start_open_pnl,
                              halted_until_ms=day_start + DAY_MS)
        return BreakerUpdate(halted, loss, tripped_now=True)
    return BreakerUpdate(state, loss, tripped_now=False)
