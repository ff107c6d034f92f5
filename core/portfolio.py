"""Open positions after EXECUTE: managed exits, their events journaled and published, closed trades
recorded for /stats and the daily-loss breaker.

The position monitor (built here, with the portfolio as its event sink) runs the exit rules;
every event becomes a journal row and a ``PositionChanged`` / ``PositionClosed`` on the bus. Who
hears about it (the trader's chat, alerts, the shadow book) is up to the subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from core.approvals import Approval, ApprovalStore, JournalEntry
from core.bus import EventBus
from core.events import CloseReason, PositionChanged, PositionClosed, PositionEventKind
from core.exits import ExitParams, managed_from_plan
from core.models import Direction, Fill, TradePlan
from core.money import MoneyService, RateUnavailable
from core.ports import Broker, BrokerError, Clock
from core.position_monitor import EventKind, PositionEvent, PositionMonitor
from core.stats import ClosedTrade
from core.trading_state import TradingRecords

log = logging.getLogger("moneybot.portfolio")

# the monitor's reasons (core.exits / core.position_monitor) as domain facts
_CHANGE_KIND = {"target 1": PositionEventKind.TP1, "breakeven": PositionEventKind.BREAKEVEN,
                "trailing": PositionEventKind.TRAIL_MOVED}
_CLOSE_REASON = {"stop loss": CloseReason.STOP_LOSS, "take profit": CloseReason.TAKE_PROFIT,
                 "trailing stop": CloseReason.TRAILING_STOP, "breakeven stop": CloseReason.BREAKEVEN_STOP,
                 "target 2": CloseReason.TARGET, "target 3": CloseReason.TARGET, "time stop": CloseReason.TIME_STOP,
                 "manual": CloseReason.MANUAL, "stop out": CloseReason.STOP_OUT}


class Portfolio:
    def __init__(self, *, broker: Broker, store: ApprovalStore, records: TradingRecords, clock: Clock,
                 bus: EventBus, money: MoneyService, exit_params: Callable[[], ExitParams],
                 state_path: Path | None = None, price_digits: Callable[[str], int] | None = None) -> None:
        self.broker = broker
        self._money = money
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
                  "price": event.fill.price if event.fill else None}))
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
            data={"reason": "manual", "realized_pnl": fill.realized_pnl, "price": fill.price}))
        await self._closed(ticket, fill.ts_ms, "manual", fill, approval)
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
                      approval: Approval | None) -> None:
        total = await self._realized_total(ticket)
        trade = await self._record_close(ticket, ts_ms, reason, fill, approval, total)
        currency = (await self.broker.account()).currency
        direction = fill.direction if fill else (approval.plan.direction if approval else Direction.LONG)
        r_multiple = trade.r if trade is not None else None
        self._bus.publish(PositionClosed(
            ts_ms=ts_ms, ticket=ticket, symbol=fill.symbol if fill else (approval.symbol if approval else ""),
            direction=direction, reason=_CLOSE_REASON.get(reason, CloseReason.UNKNOWN),
            exit_price=fill.price if fill else None, volume=fill.volume if fill else 0.0, pnl_account=total,
            r_multiple=r_multiple, currency=currency, approval_id=approval.id if approval else None,
            chat_id=approval.chat_id if approval else None))

    async def _record_close(self, ticket: int, ts_ms: int, reason: str, fill: Fill | None,
                            approval: Approval | None, realized: float) -> ClosedTrade | None:
        order = await self._store.get_order(approval.id) if approval else None
        if approval is None or order is None or order.fill_price is None:
            log.info("position %s closed but it is not one of our approvals; not in the stats", ticket)
            return None
        plan = approval.plan
        risk_amount = await self._risk_account(plan.symbol, order.fill_price, order.stop_loss or plan.stop,
                                               order.volume)
        trade = ClosedTrade(
            approval_id=approval.id, ticket=ticket, symbol=plan.symbol, direction=plan.direction,
            setup_type=plan.setup_type, entry_price=order.fill_price,
            exit_price=fill.price if fill else order.fill_price, volume=order.volume,
            realized_pnl=realized, risk_amount=risk_amount,
            open_ts_ms=approval.decided_ts_ms or approval.created_ts_ms, close_ts_ms=ts_ms, exit_reason=reason)
        await self._records.add_closed_trade(trade)
        return trade

    async def _risk_account(self, symbol: str, entry: float, stop: float, volume: float) -> float:
        """Money lost at the initial stop, in the account currency (R's unit); 0 (no R) when unconvertible."""
        spec = await self.broker.contract_spec(symbol)
        try:
            rate = self._money.quote_rate(symbol, (await self.broker.account()).currency, allow_stale=True)
        except (RateUnavailable, BrokerError) as e:
            log.warning("%s: no R for this trade: %s", symbol, e)
            return 0.0
        return abs(entry - stop) * volume * spec.contract_size * rate

    async def _realized_total(self, ticket: int) -> float:
        """P/L of every close of a position (partials and the last), from the journal: it survives restarts."""
        entries = await self._store.journal_for_ticket(ticket)
        return sum(float((e.data or {}).get("realized_pnl") or 0.0) for e in entries
                   if e.kind in (EventKind.PARTIAL_CLOSE.value, EventKind.CLOSED.value, "close"))
