"""Open positions after EXECUTE: managed exits, their events pushed to the trader and journaled,
closed trades recorded for /stats and the daily-loss breaker."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from core.approvals import ApprovalStore, JournalEntry
from core.execution import ContractSpec
from core.exits import managed_from_plan
from core.models import Fill, TradePlan
from core.money import MoneyService, RateUnavailable
from core.ports import Broker, BrokerError, Clock, Notifier
from core.position_monitor import EventKind, PositionEvent, PositionMonitor
from core.stats import ClosedTrade
from core.trading_state import TradingRecords

log = logging.getLogger("moneybot.portfolio")


class Portfolio:
    def __init__(self, *, broker: Broker, store: ApprovalStore, records: TradingRecords, clock: Clock,
                 contract_spec: Callable[[str], Awaitable[ContractSpec]], money: MoneyService,
                 price_digits: Callable[[str], int] | None = None) -> None:
        self.broker = broker
        self._money = money
        self._price_digits = price_digits  # a symbol's price digits for journal texts (None: 6 significant)
        self._store = store
        self._records = records
        self._clock = clock
        self._contract_spec = contract_spec
        self.monitor: PositionMonitor | None = None
        self.notifier: Notifier | None = None

    async def manage(self, fill: Fill, plan: TradePlan) -> None:
        """Hand a just-opened position to the exit manager (TP1 partial, breakeven, trailing, T2/T3)."""
        if self.monitor is None:
            return
        spec = await self._contract_spec(fill.symbol)
        self.monitor.manage(managed_from_plan(fill, plan, take_profit=plan.targets[-1],
                                              volume_step=spec.volume_step, volume_min=spec.volume_min))

    async def on_event(self, event: PositionEvent) -> None:
        """From the position monitor: journal it, push it to the card's chat, record closes."""
        approval = await self._store.approval_for_ticket(event.ticket)
        realized = event.fill.realized_pnl if event.fill else 0.0
        await self._store.add_journal(JournalEntry(
            ts_ms=event.ts_ms, kind=event.kind.value, text=event.text, symbol=event.symbol,
            approval_id=approval.id if approval else None, ticket=event.ticket,
            data={"reason": event.reason, "realized_pnl": realized,
                  "price": event.fill.price if event.fill else None}))
        if event.kind is EventKind.CLOSED:
            await self._record_close(event.ticket, event.ts_ms, event.reason, event.fill, approval)
        if self.notifier is not None and approval is not None:
            await self.notifier.send(approval.chat_id, f"<b>{html.escape(event.symbol)}</b> #{event.ticket}: "
                                                       f"{html.escape(event.text)}")

    async def close(self, ticket: int, *, by: int) -> Fill:
        """A trader's manual close of the whole position (BrokerError when the broker refuses)."""
        fill = await self.broker.close(ticket)
        if self.monitor is not None:
            self.monitor.forget(ticket)
        approval = await self._store.approval_for_ticket(ticket)
        await self._store.add_journal(JournalEntry(
            ts_ms=fill.ts_ms, kind="close", text=f"closed by {by} at {self._price(fill.symbol, fill.price)}, "
                                                 f"P/L {fill.realized_pnl:+.2f}",
            symbol=fill.symbol, approval_id=approval.id if approval else None, ticket=ticket,
            data={"reason": "manual", "realized_pnl": fill.realized_pnl, "price": fill.price}))
        await self._record_close(ticket, fill.ts_ms, "manual close", fill, approval)
        return fill

    def _price(self, symbol: str, price: float) -> str:
        return f"{price:.{self._price_digits(symbol)}f}" if self._price_digits else f"{price:.6g}"

    async def _record_close(self, ticket: int, ts_ms: int, reason: str, fill: Fill | None, approval) -> None:
        order = await self._store.get_order(approval.id) if approval else None
        if order is None or order.fill_price is None:
            log.info("position %s closed but it is not one of our approvals; not in the stats", ticket)
            return
        plan = approval.plan
        risk_amount = await self._risk_account(plan.symbol, order.fill_price, order.stop_loss or plan.stop,
                                               order.volume)
        await self._records.add_closed_trade(ClosedTrade(
            approval_id=approval.id, ticket=ticket, symbol=plan.symbol, direction=plan.direction,
            setup_type=plan.setup_type, entry_price=order.fill_price,
            exit_price=fill.price if fill else order.fill_price, volume=order.volume,
            realized_pnl=await self._realized_total(ticket), risk_amount=risk_amount,
            open_ts_ms=approval.decided_ts_ms or approval.created_ts_ms, close_ts_ms=ts_ms, exit_reason=reason))

    async def _risk_account(self, symbol: str, entry: float, stop: float, volume: float) -> float:
        """Money lost at the initial stop, in the account currency (R's unit); 0 (no R) when unconvertible."""
        spec = await self._contract_spec(symbol)
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
