"""The kill switches: an admin's pause and the daily-loss circuit breaker, persisted."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from core.ports import Clock
from core.risk import BreakerState, trading_day_start_ms, update_breaker
from core.stats import ClosedTrade
from core.tunables import TunableValues


class TradingRecords(Protocol):
    """Closed trades (``add_closed_trade`` replaces a provisional one: its confirmation) and the state."""

    async def add_closed_trade(self, trade: ClosedTrade) -> None: ...

    async def closed_trades(self, since_ts_ms: int = 0) -> list[ClosedTrade]: ...

    async def provisional_trades(self) -> list[ClosedTrade]: ...

    async def load_state(self) -> tuple[bool, int | None, dict]: ...

    async def save_state(self, *, paused: bool, paused_by: int | None, breaker: dict, ts_ms: int) -> None: ...


@dataclass(frozen=True, slots=True)
class BreakerView:
    start_equity: float
    realized_today: float
    open_pnl_change: float
    loss_pct: float
    halted: bool
    halted_until_ms: int
    halted_reason: str


class TradingGuard:
    """Paused flag + breaker state in memory, written through to the records on every change."""

    def __init__(self, records: TradingRecords, tunables: TunableValues, clock: Clock) -> None:
        self.records = records
        self._tunables = tunables
        self._clock = clock
        self.paused = False
        self.paused_by: int | None = None
        self._breaker: BreakerState | None = None

    async def load(self) -> None:
        self.paused, self.paused_by, raw = await self.records.load_state()
        self._breaker = BreakerState(**raw) if raw else None

    async def set_paused(self, paused: bool, by: int) -> None:
        self.paused, self.paused_by = paused, by if paused else None
        await self._save()

    async def breaker(self, now_ms: int, equity: float, open_pnl: float) -> BreakerView:
        """Advance the breaker to now (a new day, or a trip) and describe it."""
        view, _tripped = await self.evaluate(now_ms, equity, open_pnl)
        return view

    async def evaluate(self, now_ms: int, equity: float, open_pnl: float) -> tuple[BreakerView, bool]:
        rollover = self._tunables["risk.day_rollover_hour_utc"]
        day_start = trading_day_start_ms(now_ms, rollover)
        realized = sum(t.realized_pnl for t in await self.records.closed_trades(day_start))
        limit = self._tunables["risk.daily_loss_limit_pct"]
        update = update_breaker(self._breaker, now_ms=now_ms, equity=equity, realized_pnl_today=realized,
                                open_pnl=open_pnl, limit_pct=limit, rollover_hour_utc=rollover)
        if update.state != self._breaker:
            self._breaker = update.state
            await self._save()
        state = update.state
        halted = state.halted(now_ms)
        loss_pct = float(getattr(update.loss, "loss_pct", 0.0))
        reason = (f"daily loss limit {limit:g}% was hit; trading is halted until the next trading day"
                  if halted else "")
        return BreakerView(start_equity=state.start_equity, realized_today=realized,
                           open_pnl_change=open_pnl - state.start_open_pnl, loss_pct=loss_pct, halted=halted,
                           halted_until_ms=state.halted_until_ms, halted_reason=reason), update.tripped_now

    async def _save(self) -> None:
        breaker: dict[str, Any] = asdict(self._breaker) if self._breaker else {}
        await self.records.save_state(paused=self.paused, paused_by=self.paused_by, breaker=breaker,
                                      ts_ms=self._clock.now_ms())
