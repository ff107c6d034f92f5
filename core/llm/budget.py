"""Daily and monthly AI budgets, checked before every call with a reservation that fails closed.

``reserve(worst_case_usd)`` adds what has been spent in the UTC day (and month) to what calls in
flight have reserved and to this call's worst case; over either budget the call is refused before
it is made. The spend is read from the ledger once per period (a ledger that cannot be read
refuses the call: fail closed) and then kept in memory: ``record`` adds each call's cost the
moment it is known, before its ledger row is written, so the check needs no database round trip
and a write still in flight is never missed. The reservation is released by ``record`` (or
``release``), so two calls at once can never both squeeze under the limit. Each period's first
refusal is marked ``first`` (one admin alert per period).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from core.llm.records import AiLedger
from core.ports import Clock
from core.tunables import Tunable, TunableValues

log = logging.getLogger("moneybot.ai.budget")

TUNABLES: tuple[Tunable, ...] = (
    Tunable("ai.daily_budget_usd", float, 2.0, "AI spend allowed per UTC day; calls stop when reached",
            0.0, 100_000.0, unit="USD"),
    Tunable("ai.monthly_budget_usd", float, 30.0, "AI spend allowed per calendar month (UTC)",
            0.0, 1_000_000.0, unit="USD"),
)


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    amount_usd: float


@dataclass(frozen=True, slots=True)
class BudgetRefusal:
    reason: str  # one line for the card
    period: str = ""  # "day" | "month" | "" (ledger unreadable)
    period_key: str = ""  # "2026-11-22" | "2026-11"
    spent_usd: float = 0.0
    budget_usd: float = 0.0
    first: bool = False  # the first refusal of this period (alert the admins once)


def period_starts(now: datetime) -> tuple[int, int]:
    """Epoch ms of the start of ``now``'s UTC day and month."""
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    month = datetime(now.year, now.month, 1, tzinfo=UTC)
    return int(day.timestamp() * 1000), int(month.timestamp() * 1000)


class BudgetGuard:
    def __init__(self, ledger: AiLedger, tunables: TunableValues, clock: Clock) -> None:
        self._ledger = ledger
        self._tunables = tunables
        self._clock = clock
        self._lock = asyncio.Lock()
        self._held: dict[int, float] = {}
        self._ids = itertools.count(1)
        self._alerted: set[str] = set()
        self._spent: dict[str, float] = {}  # "day:2026-11-22" / "month:2026-11" -> USD

    @property
    def held_usd(self) -> float:
        return sum(self._held.values())

    async def reserve(self, amount_usd: float) -> Reservation | BudgetRefusal:
        now = self._clock.now().astimezone(UTC)
        async with self._lock:
            try:
                spent_day, spent_month = await self._period_spend(now)
            except Exception as e:  # noqa: BLE001 - fail closed: no known spend, no call
                log.warning("AI budget check failed, call skipped: %s", e)
                return BudgetRefusal("AI skipped: the cost ledger could not be read")
            held = self.held_usd
            for period, key, spent, limit in (
                    ("day", now.strftime("%Y-%m-%d"), spent_day, self._tunables["ai.daily_budget_usd"]),
                    ("month", now.strftime("%Y-%m"), spent_month, self._tunables["ai.monthly_budget_usd"])):
                if spent + held + amount_usd > limit:
                    return self._refuse(period, key, spent, limit)
            reservation = Reservation(next(self._ids), amount_usd)
            self._held[reservation.id] = amount_usd
            return reservation

    def record(self, ts_ms: int, cost_usd: float, reservation: Reservation | None = None) -> None:
        """A call's actual cost is known: count it (and free its reservation)."""
        when = datetime.fromtimestamp(ts_ms / 1000, UTC)
        for key in (f"day:{when:%Y-%m-%d}", f"month:{when:%Y-%m}"):
            if key in self._spent:
                self._spent[key] += cost_usd
        if reservation is not None:
            self.release(reservation)

    def release(self, reservation: Reservation) -> None:
        self._held.pop(reservation.id, None)

    async def _period_spend(self, now: datetime) -> tuple[float, float]:
        day_start, month_start = period_starts(now)
        day_key, month_key = f"day:{now:%Y-%m-%d}", f"month:{now:%Y-%m}"
        if month_key not in self._spent:
            self._spent[month_key] = await self._ledger.spent_usd(month_start)
        if day_key not in self._spent:
            self._spent[day_key] = await self._ledger.spent_usd(day_start)
        return self._spent[day_key], self._spent[month_key]

    def _refuse(self, period: str, key: str, spent: float, limit: float) -> BudgetRefusal:
        first = key not in self._alerted
        self._alerted.add(key)
        word = "daily" if period == "day" else "monthly"
        return BudgetRefusal(f"{word} AI budget reached (${spent:.2f} of ${limit:.2f})", period, key, spent,
                             limit, first)
