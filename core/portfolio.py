"""Open positions after EXECUTE: managed exits, their events journaled and published, closed trades
recorded (``core.settlement``: with the broker's deals where it has them) for /stats and the breaker.

The position monitor (built here, with the portfolio as its event sink) runs the exit rules;
every event becomes a journal row and a ``PositionChanged`` / ``PositionClosed`` on the bus. Who
hears about it (the trader's chat, alerts, the shadow book) is up to the subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from core.approvals import Approval, ApprovalStore, JournalEntry
from core.bus import EventBus
from core.events import PositionChanged, PositionClosed, PositionEventKind
from core.exits import ExitParams, managed_from_plan
from core.models import Direction, Fill, TradePlan
from core.money import MoneyService
from core.ports import Broker, Clock
from core.position_monitor import EventKind, PositionEvent, PositionMonitor
from core.settlement import Settlement
from core.trading_state import TradingRecords

log = logging.getLogger("moneybot.portfolio")

# the monitor's reasons (core.exits / core.position_monitor) as domain facts (closes: core.settlement)
_CHANGE_KIND = {"target 1": PositionEventKind.TP1, "breakeven": PositionEventKind.BREAKEVEN,
                "trailing": PositionEventKind.TRAIL_MOVED}


class Portfolio:
    def __init__(self, *, broker: Broker, store: ApprovalStore, records: TradingRecords, clock: Clock,
                 bus: EventBus, money: MoneyService, exit_params: Callable[[], ExitParams],
                 state_path: Path | None = None, price_digits: Callable[[str], int] | None = None) -> None:
        self.broker = broker
        self._settlement = Settlement(broker=broker, store=store, records=records, clock=clock, money=money)
        self._price_digits = price_digits  # a symbol's price digits for journal texts (None: 6 significant)
        self._store = store
        self._records = records
        self._clock = clock
        self._bus = bus
        price_sink = broker.on_price if broker.capabilities.prices_from_feed else None
        self.monitor = PositionMonitor(broker, self.on_event, clock=clock, params=exit_params,
                                       price_sink=price_sink, state_path=state_path)

    async def manage(self, fill: Fill, plan: TradePlan, approval: Approval | None = None) -> None:
        """Hand a just-opened position to the exit manager (TP1 partial, breakeven, trailing, T2/T3).

        A market fill was already published as ``OrderPlaced``; a pending order that fills later
        comes back from the monitor as ``PositionChanged(FILLED)``."""
        spec = await self.broker.contract_spec(fill.symbol)
        self.monitor.manage(managed_from_plan(fill, plan, take_profit=plan.targets[-1],
                                              volume_step=spec.volume_step, volume_min=spec.volume_min))

    async def on_event(self, event: PositionEvent) -> None:
        """From the position monitor: journal it, record closes, publish the fact."""
        approval = await self._store.approval_for_ticket(event.ticket)
        realized = event.fill.realized_pnl if event.fill else 0.0
        await self._store.add_journal(JournalEntry(
            ts_ms=event.ts_ms, kind=event.kind.value, text=event.text, symbol=event.symbol,
            approval_id=approval.id if approval else None, ticket=event.ticket,
            data={"reason": event.reason, "realized_pnl": realized,
                  "price": event.fill.price if event.fill else None,
                  "provisional": bool(event.fill and event.fill.provisional)}))
        if event.kind is EventKind.CLOSED:
            await self._closed(event.ticket, event.ts_ms, event.reason, event.fill, approval)
        elif event.ticket:
            await self._changed(event, approval)

    async def close(self, ticket: int, *, by: int) -> Fill:
        """A trader's manual close of the whole position (BrokerError when the broker refuses)."""
        fill = await self.broker.close(ticket)
        self.monitor.forget(ticket)
        approval = await self._store.approval_for_ticket(ticket)
        await self._store.add_journal(JournalEntry(
            ts_ms=fill.ts_ms, kind="close", text=f"closed by {by} at {self._price(fill.symbol, fill.price)}, "
                                                 f"P/L {fill.realized_pnl:+.2f}",
            symbol=fill.symbol, approval_id=approval.id if approval else None, ticket=ticket,
            data={"reason": "manual", "realized_pnl": fill.realized_pnl, "price": fill.price,
                  "provisional": fill.provisional}))
        await self._closed(ticket, fill.ts_ms, "manual", fill, approval, closed_by=by)
        return fill

    def _price(self, symbol: str, price: float) -> str:
        return f"{price:.{self._price_digits(symbol)}f}" if self._price_digits else f"{price:.6g}"

    async def _changed(self, event: PositionEvent, approval: Approval | None) -> None:
        fill = event.fill
        if event.kind is EventKind.OPENED:
            kind = PositionEventKind.FILLED
        elif event.kind is EventKind.ERROR:
            kind = PositionEventKind.ERROR
        else:
            default = PositionEventKind.PARTIAL_CLOSE if event.kind is EventKind.PARTIAL_CLOSE \
                else PositionEventKind.STOP_MOVED
            kind = _CHANGE_KIND.get(event.reason, default)
        direction = fill.direction if fill else (approval.plan.direction if approval else Direction.LONG)
        currency = (await self.broker.account()).currency
        managed = next((m for m in self.monitor.managed() if m.ticket == event.ticket), None)
        self._bus.publish(PositionChanged(
            ts_ms=event.ts_ms, ticket=event.ticket, symbol=event.symbol, direction=direction, kind=kind,
            price=fill.price if fill else (managed.stop if managed else None),
            volume=fill.volume if fill else None, remaining_volume=managed.volume if managed else None,
            realized_pnl_account=fill.realized_pnl if fill else 0.0, currency=currency,
            approval_id=approval.id if approval else None, chat_id=approval.chat_id if approval else None,
            detail=event.text if kind is PositionEventKind.ERROR else event.reason))

    async def _closed(self, ticket: int, ts_ms: int, reason: str, fill: Fill | None,
                      approval: Approval | None, closed_by: int | None = None) -> None:
        closed = await self._settlement.record(ticket, ts_ms, reason, fill, approval)
        self._bus.publish(replace(closed, closed_by=closed_by) if closed_by is not None else closed)

    async def confirm_closes(self) -> list[PositionClosed]:
        """Closes still provisional whose broker deals are in now (MT5): settled and published again."""
        confirmed = await self._settlement.confirm_pending()
        for closed in confirmed:
            self._bus.publish(closed)
        return confirmed
