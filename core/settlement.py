"""Settling closed positions into closed trades, with the broker's own figures when it has them.

The journal is the ledger: every close of a position (partials, the last one) is a row carrying
its ``realized_pnl`` in the account currency, and a closed trade's P/L is their sum (it survives
restarts). With a broker that reports deals (MT5, ``DealHistory``) the position's closing deals
are the truth: profit, commission and swap of every deal, the exit price and why it closed (stop
loss, take profit, stop-out, a manual close). A row ``close_confirmed`` books any difference
between the ledger and the deals, so the sum equals them. Until the deals are in the history
the closed trade is ``provisional`` (its P/L an estimate) and ``confirm_pending`` asks again;
the daily-loss breaker, /stats and the pushed event then carry the confirmed figure.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from core.approvals import Approval, ApprovalStore, JournalEntry
from core.events import CloseReason, PositionClosed
from core.execution import ClosingDeals
from core.models import Direction, Fill
from core.money import MoneyService, RateUnavailable
from core.ports import Broker, BrokerError, Clock, DealHistory
from core.stats import ClosedTrade
from core.trading_state import TradingRecords

log = logging.getLogger("moneybot.settlement")
LEDGER_KINDS = ("partial_close", "closed", "close", "close_confirmed")  # journal rows that book P/L
CONFIRMED = "close_confirmed"
# the monitor's and the trader's close reasons as domain facts
CLOSE_REASONS = {"stop loss": CloseReason.STOP_LOSS, "take profit": CloseReason.TAKE_PROFIT,
                 "trailing stop": CloseReason.TRAILING_STOP, "breakeven stop": CloseReason.BREAKEVEN_STOP,
                 "target 2": CloseReason.TARGET, "target 3": CloseReason.TARGET, "time stop": CloseReason.TIME_STOP,
                 "manual": CloseReason.MANUAL, "stop out": CloseReason.STOP_OUT}
_DEAL_WORDS = {CloseReason.STOP_LOSS: "stop loss", CloseReason.TAKE_PROFIT: "take profit",
               CloseReason.STOP_OUT: "stop out", CloseReason.MANUAL: "manual"}


def _deal_reason_words(deals: ClosingDeals, trade: ClosedTrade) -> str:
    """Why the deals say it closed, in the monitor's words. A stop loss filled beyond the entry was a
    moved stop: the monitor's name for it when it knew, else trailing when it made a quarter R or
    more and breakeven otherwise."""
    if deals.reason is None:
        return trade.exit_reason  # our own API closed it: the monitor's reason
    if deals.reason is not CloseReason.STOP_LOSS:
        return _DEAL_WORDS[deals.reason]
    if trade.exit_reason in ("breakeven stop", "trailing stop"):
        return trade.exit_reason
    beyond_entry = trade.direction.sign * (deals.exit_price - trade.entry_price)
    if beyond_entry <= 0:
        return "stop loss"
    # a moved stop: trailed when the position made a real profit (a quarter R or more), else breakeven
    trailed = trade.risk_amount > 0 and deals.pnl_account >= 0.25 * trade.risk_amount
    return "trailing stop" if trailed else "breakeven stop"


class Settlement:
    def __init__(self, *, broker: Broker, store: ApprovalStore, records: TradingRecords, clock: Clock,
                 money: MoneyService) -> None:
        self._broker = broker
        self._store = store
        self._records = records
        self._clock = clock
        self._money = money

    async def record(self, ticket: int, ts_ms: int, reason: str, fill: Fill | None,
                     approval: Approval | None) -> PositionClosed:
        """The closed trade of ``ticket`` (its close already journaled) and the fact to publish."""
        currency = await self._currency()
        order = await self._store.get_order(approval.id) if approval else None
        if approval is None or order is None or order.fill_price is None:
            log.info("position %s closed but it is not one of our approvals; not in the stats", ticket)
            return PositionClosed(
                ts_ms=ts_ms, ticket=ticket, symbol=fill.symbol if fill else (approval.symbol if approval else ""),
                direction=fill.direction if fill else (approval.plan.direction if approval else Direction.LONG),
                reason=CLOSE_REASONS.get(reason, CloseReason.UNKNOWN), exit_price=fill.price if fill else None,
                volume=fill.volume if fill else 0.0, pnl_account=await self._ledger_total(ticket), r_multiple=None,
                currency=currency, provisional=bool(fill and fill.provisional),
                approval_id=approval.id if approval else None, chat_id=approval.chat_id if approval else None)
        plan = approval.plan
        risk = await self._risk_account(plan.symbol, order.fill_price, order.stop_loss or plan.stop,
                                        order.volume, currency)
        trade = ClosedTrade(
            approval_id=approval.id, ticket=ticket, symbol=plan.symbol, direction=plan.direction,
            setup_type=plan.setup_type, entry_price=order.fill_price,
            exit_price=fill.price if fill else order.fill_price, volume=order.volume,
            realized_pnl=await self._ledger_total(ticket), risk_amount=risk,
            open_ts_ms=approval.decided_ts_ms or approval.created_ts_ms, close_ts_ms=ts_ms, exit_reason=reason,
            provisional=isinstance(self._broker, DealHistory) or (fill is not None and fill.provisional))
        return await self._settle(trade, approval, currency)

    async def confirm_pending(self) -> list[PositionClosed]:
        """Ask the broker again for the deals of every provisional closed trade; the confirmed ones."""
        confirmed = []
        for trade in await self._records.provisional_trades():
            approval = await self._store.approval_for_ticket(trade.ticket)
            closed = await self._settle(trade, approval, await self._currency())
            if not closed.provisional:
                confirmed.append(closed)
        return confirmed

    # ------------------------------------------------------------------ internals

    async def _settle(self, trade: ClosedTrade, approval: Approval | None, currency: str) -> PositionClosed:
        deals = await self._deals(trade.ticket) if trade.provisional else None
        commission = swap = 0.0
        if deals is not None and deals.complete:
            trade = await self._confirmed(trade, deals)
            commission, swap = deals.commission_account, deals.swap_account
        elif isinstance(self._broker, DealHistory) and trade.provisional:
            log.debug("%s #%s: closing deals not in the history yet; P/L %+.2f is provisional", trade.symbol,
                      trade.ticket, trade.realized_pnl)
        else:
            trade = replace(trade, provisional=False)  # a broker without deals: its fills are the truth
        await self._records.add_closed_trade(trade)
        return PositionClosed(
            ts_ms=trade.close_ts_ms, ticket=trade.ticket, symbol=trade.symbol, direction=trade.direction,
            reason=CLOSE_REASONS.get(trade.exit_reason, CloseReason.UNKNOWN), exit_price=trade.exit_price, volume=trade.volume,
            pnl_account=trade.realized_pnl, r_multiple=trade.r, currency=currency, commission_account=commission,
            swap_account=swap, provisional=trade.provisional, approval_id=trade.approval_id or None,
            chat_id=approval.chat_id if approval else None)

    async def _confirmed(self, trade: ClosedTrade, deals: ClosingDeals) -> ClosedTrade:
        """The trade with the deals' figures; the journal books the difference to its ledger."""
        booked = await self._ledger_total(trade.ticket)
        reason = _deal_reason_words(deals, trade)
        await self._store.add_journal(JournalEntry(
            ts_ms=self._clock.now_ms(), kind=CONFIRMED, symbol=trade.symbol, approval_id=trade.approval_id or None,
            ticket=trade.ticket,
            text=(f"broker deals: closed at {deals.exit_price:g} by {reason}, P/L {deals.pnl_account:+.2f} "
                  f"(commission {deals.commission_account:+.2f}, swap {deals.swap_account:+.2f})"),
            data={"reason": reason, "realized_pnl": deals.pnl_account - booked, "price": deals.exit_price,
                  "pnl_account": deals.pnl_account, "commission_account": deals.commission_account,
                  "swap_account": deals.swap_account, "provisional": False}))
        return replace(trade, realized_pnl=deals.pnl_account, exit_price=deals.exit_price, exit_reason=reason,
                       close_ts_ms=deals.close_ts_ms, provisional=False)

    async def _deals(self, ticket: int) -> ClosingDeals | None:
        if not isinstance(self._broker, DealHistory):
            return None
        try:
            return await self._broker.closing_deals(ticket)
        except BrokerError as e:
            log.warning("closing deals of #%s not readable yet: %s", ticket, e.message)
            return None

    async def _currency(self) -> str:
        try:
            return (await self._broker.account()).currency
        except BrokerError as e:
            log.warning("account currency unknown: %s", e.message)
            return ""

    async def _risk_account(self, symbol: str, entry: float, stop: float, volume: float, currency: str) -> float:
        """Money lost at the initial stop, in the account currency (R's unit); 0 (no R) when unconvertible."""
        spec = await self._broker.contract_spec(symbol)
        try:
            rate = self._money.quote_rate(symbol, currency, allow_stale=True)
        except RateUnavailable as e:
            log.warning("%s: no R for this trade: %s", symbol, e.message)
            return 0.0
        return abs(entry - stop) * volume * spec.contract_size * rate

    async def _ledger_total(self, ticket: int) -> float:
        """P/L of every close of a position (partials, the last, confirmations), from the journal."""
        entries = await self._store.journal_for_ticket(ticket)
        return sum(float((e.data or {}).get("realized_pnl") or 0.0) for e in entries if e.kind in LEDGER_KINDS)
