"""The approval flow as a use case: create a card's approval, EXECUTE / WAIT / REJECT it, expire it.

Every state change goes to the ApprovalStore first. EXECUTE claims the approval with a
compare-and-set, re-runs the safety gates at the moment of the press, translates the plan to the
broker's prices, writes the order record (one per approval, enforced by the store), and only
then calls the broker. ``reconcile`` settles what a crash left between those steps.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from core.approvals import Approval, ApprovalState, ApprovalStore, JournalEntry, OrderRecord, OrderState
from core.execution import ContractSpec
from core.market.health import FeedHealth
from core.market.price_sync import BasisUnavailable, PriceSync
from core.market.state import MarketState
from core.models import Fill, OrderIntent, TradePlan
from core.money import MoneyService, RateUnavailable
from core.ports import Broker, BrokerError, Clock
from core.risk import RiskLimits, RiskReport, TradeCheck, TradingState, check_all
from core.trading_state import TradingGuard
from core.tunables import TunableValues

log = logging.getLogger("moneybot.trading")
OPEN = (ApprovalState.PENDING, ApprovalState.WAITING)
CrashHook = Callable[[str], None]
Manage = Callable[[Fill, TradePlan], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the trader sees after a button: a short alert and, when it changed, the card's new text."""

    alert: str
    card_html: str | None = None
    ok: bool = False


def _status_block(icon: str, text: str) -> str:
    return f"\n\n{icon} <b>{text}</b>"


class TradingService:
    def __init__(self, *, store: ApprovalStore, broker: Broker, market: MarketState, health: FeedHealth,
                 price_sync: PriceSync, guard: TradingGuard, tunables: TunableValues, clock: Clock,
                 contract_spec: Callable[[str], Awaitable[ContractSpec]], money: MoneyService,
                 manage: Manage | None = None, crash_hook: CrashHook | None = None) -> None:
        self.store = store
        self.broker = broker
        self._market = market
        self._health = health
        self._price_sync = price_sync
        self.guard = guard
        self.tunables = self._tunables = tunables
        self.clock = self._clock = clock
        self._contract_spec = contract_spec
        self._money = money
        self._manage = manage
        self._crash = crash_hook or (lambda _point: None)

    # ------------------------------------------------------------------ cards

    async def open_approval(self, plan: TradePlan, *, card_html: str, card_price: float, source: str, chat_id: int,
                            user_id: int, parent_id: str | None = None) -> Approval:
        now = self._clock.now_ms()
        approval = Approval(id=secrets.token_hex(6), plan=plan, card_html=card_html, card_price=card_price,
                            source=source, chat_id=chat_id, requested_by=user_id, state=ApprovalState.PENDING,
                            created_ts_ms=now, expires_ts_ms=now + self._tunables["approvals.ttl_s"] * 1000,
                            parent_id=parent_id)
        await self.store.add_approval(approval)
        await self._journal("signal", f"{plan.direction.value} {plan.symbol} card issued "
                            f"(confidence {plan.confidence:.0f}, R:R {plan.risk_reward:.2f} to T{plan.reward_target})", approval)
        return approval

    async def attach_message(self, approval_id: str, message_id: int) -> None:
        await self.store.set_message(approval_id, message_id)

    # ------------------------------------------------------------------ decisions

    async def reject(self, approval_id: str, *, user_id: int, chat_id: int) -> Decision:
        found = await self._usable(approval_id, chat_id)
        if isinstance(found, Decision):
            return found
        now = self._clock.now_ms()
        done = await self.store.transition(approval_id, OPEN, ApprovalState.REJECTED, decided_by=user_id,
                                           decided_ts_ms=now, note="rejected by the trader")
        if done is None:
            return await self._already(approval_id)
        await self._journal("decision", f"REJECT by {user_id}", done)
        return Decision("Rejected and recorded.", done.card_html + _status_block("❌", f"REJECTED by {user_id}"),
                        ok=True)

    async def wait(self, approval_id: str, *, user_id: int, chat_id: int) -> Decision:
        found = await self._usable(approval_id, chat_id)
        if isinstance(found, Decision):
            return found
        now = self._clock.now_ms()
        checks = self._tunables["approvals.wait_rechecks"]
        window_ms = self._tunables["approvals.wait_window_min"] * 60_000
        done = await self.store.transition(
            approval_id, (ApprovalState.PENDING,), ApprovalState.WAITING, decided_by=user_id, decided_ts_ms=now,
            wait_checks_left=checks, next_check_ts_ms=now + window_ms // checks, wait_until_ts_ms=now + window_ms)
        if done is None:
            return await self._already(approval_id)
        await self._journal("decision", f"WAIT by {user_id}: up to {checks} re-checks", done)
        minutes = window_ms // 60_000
        text = (f"WAIT: I will re-check up to {checks} times over {minutes} min (sooner if price reaches "
                "the entry) and send a fresh card if it still holds")
        return Decision("Waiting; I will re-check it.", done.card_html + _status_block("⏳", text), ok=True)

    async def execute(self, approval_id: str, *, user_id: int, chat_id: int) -> Decision:
        found = await self._usable(approval_id, chat_id)
        if isinstance(found, Decision):
            return found
        now = self._clock.now_ms()
        claimed = await self.store.transition(approval_id, OPEN, ApprovalState.EXECUTING, decided_by=user_id,
                                              decided_ts_ms=now)
        if claimed is None:
            return await self._already(approval_id)
        await self._journal("decision", f"EXECUTE by {user_id}", claimed)
        try:
            return await self._place(claimed, user_id)
        except Exception:
            log.exception("execution of approval %s failed unexpectedly", approval_id)
            await self.store.update_order(approval_id, OrderState.UNKNOWN, self._clock.now_ms())
            return Decision("The broker did not confirm; I will check and report.", None)

    async def _place(self, approval: Approval, user_id: int) -> Decision:
        plan = approval.plan
        report, quote_mid = await self.gates(approval)
        if not report.allowed or report.sizing is None:
            return await self._refuse(approval, report.summary(), report)
        try:
            broker_plan = self._to_broker(plan)
        except BasisUnavailable as e:
            return await self._refuse(approval, str(e), report)
        intent = OrderIntent(symbol=plan.symbol, direction=plan.direction, volume=report.sizing.volume,
                             stop_loss=broker_plan.stop, take_profit=broker_plan.targets[-1],
                             client_id=approval.id, comment=f"mb:{approval.id}")
        basis = self._basis_record(plan.symbol)
        record = OrderRecord(approval.id, plan.symbol, plan.direction, intent.volume, OrderState.SUBMITTING,
                             stop_loss=intent.stop_loss, take_profit=intent.take_profit)
        if not await self.store.add_order(record, gates=_gates_record(report), basis=basis, ts_ms=self._now()):
            return Decision("An order for this card already exists; nothing new was placed.")
        self._crash("before_broker")
        try:
            fill = await self.broker.place(intent)
        except BrokerError as e:
            await self.store.update_order(approval.id, OrderState.FAILED, self._now(), error=e.message)
            failed = await self.store.transition(approval.id, (ApprovalState.EXECUTING,), ApprovalState.FAILED,
                                                 note=e.message)
            await self._journal("failed", f"broker refused: {e.message}", failed or approval)
            return Decision(f"Broker refused: {e.message}"[:200],
                            approval.card_html + _status_block("⚠️", f"NOT PLACED: {e.message}"))
        self._crash("after_broker")
        return await self._filled(approval, fill, broker_plan, quote_mid)

    async def _filled(self, approval: Approval, fill: Fill, broker_plan: TradePlan, quote_mid: float) -> Decision:
        await self.store.update_order(approval.id, OrderState.FILLED, self._now(), ticket=fill.ticket,
                                      fill_price=fill.price, volume=fill.volume)
        done = await self.store.transition(approval.id, (ApprovalState.EXECUTING,), ApprovalState.EXECUTED,
                                           ticket=fill.ticket)
        text = (f"EXECUTED: ticket {fill.ticket}, {fill.direction.value} {fill.volume:g} {fill.symbol} "
                f"@ {fill.price:,.{_digits(fill.price)}f}")
        await self._journal("fill", text, done or approval, ticket=fill.ticket,
                            data={"fill_price": fill.price, "volume": fill.volume, "card_mid": quote_mid})
        if self._manage is not None:
            await self._manage(fill, broker_plan)
        return Decision(f"Placed: ticket {fill.ticket}", approval.card_html + _status_block("✅", text), ok=True)

    async def _refuse(self, approval: Approval, reason: str, report: RiskReport) -> Decision:
        refused = await self.store.transition(approval.id, (ApprovalState.EXECUTING,), ApprovalState.REFUSED,
                                              note=reason)
        await self._journal("refused", f"not placed: {reason}", refused or approval, data=_gates_record(report))
        return Decision(f"Not placed: {reason}"[:200], approval.card_html + _status_block("🛑", f"NOT PLACED: {reason}"))

    # ------------------------------------------------------------------ gates

    async def gates(self, approval: Approval) -> tuple[RiskReport, float]:
        plan = approval.plan
        quote = await self.broker.quote(plan.symbol)
        account = await self.broker.account()
        open_items = [*await self.broker.positions(), *await self.broker.orders()]
        limits = RiskLimits.from_values(self._tunables.snapshot())
        now = self._now()
        breaker = await self.guard.breaker(now, account.equity, sum(getattr(p, "unrealized_pnl", 0.0)
                                                                    for p in open_items))
        status, _reason = self._health.status(plan.symbol)
        reference_mid, basis_problem = self._price_sync.reference_price(plan.symbol, quote.mid, now)
        symbols = {plan.symbol, *(p.symbol for p in open_items)}
        self._money.note(plan.symbol, quote.bid, quote.ask, quote.ts_ms)
        try:
            rate, rate_problem = await self._money.live_quote_rate(plan.symbol, account.currency,
                                                                   self.broker.quote), ""
        except RateUnavailable as e:
            rate, rate_problem = None, e.message
        check = TradeCheck(
            symbol=plan.symbol, direction=plan.direction, confidence=plan.confidence, entry=plan.entry,
            stop=plan.stop, card_price=approval.card_price, bid=quote.bid, ask=quote.ask, equity=account.equity,
            spec=await self._contract_spec(plan.symbol), start_equity=breaker.start_equity,
            realized_pnl_today=breaker.realized_today, open_pnl_today=breaker.open_pnl_change, atr=plan.atr,
            feed_status=status,
            trading_state=TradingState.HALTED if breaker.halted else TradingState.ACTIVE,
            paused=self.guard.paused, halted_reason=breaker.halted_reason, open_positions=open_items,
            closes=self._closes(symbols), quote_to_account=rate, rate_problem=rate_problem,
            reference_mid=reference_mid, basis_problem=basis_problem)
        return check_all(check, limits), quote.mid

    def _closes(self, symbols: set[str]) -> dict[str, Any]:
        closes = {s: self._market.htf(s, "1h").close for s in symbols}
        closes = {s: c for s, c in closes.items() if len(c)}
        if not closes:
            return {}
        length = min(len(c) for c in closes.values())
        return {s: c[-length:] for s, c in closes.items()}

    def _to_broker(self, plan: TradePlan) -> TradePlan:
        now = self._now()
        convert = self._price_sync.to_broker
        return replace(plan, entry=convert(plan.symbol, plan.entry, now), stop=convert(plan.symbol, plan.stop, now),
                       targets=tuple(convert(plan.symbol, t, now) for t in plan.targets))

    def _basis_record(self, symbol: str) -> dict[str, Any]:
        basis = self._price_sync.basis(symbol, self._now())
        if basis is None:
            return {}
        return {"median_difference": basis.median_difference, "median_ratio": basis.median_ratio,
                "samples": basis.samples, "method": str(basis.method)}

    # ------------------------------------------------------------------ housekeeping

    async def expire_due(self) -> list[Approval]:
        """Cards past their time-to-live become EXPIRED (nothing executed); returns them."""
        now = self._now()
        expired = []
        for approval in await self.store.list_approvals((ApprovalState.PENDING,)):
            if approval.expires_ts_ms <= now:
                done = await self._expire(approval)
                if done is not None:
                    expired.append(done)
        return expired

    async def _expire(self, approval: Approval) -> Approval | None:
        done = await self.store.transition(approval.id, (ApprovalState.PENDING,), ApprovalState.EXPIRED,
                                           note="not answered in time")
        if done is not None:
            await self._journal("expired", "card expired unanswered; nothing executed", done)
        return done

    async def reconcile(self) -> list[str]:
        """Settle orders a crash left unconfirmed and approvals left EXECUTING; returns readable notes."""
        notes = []
        for order in await self.store.list_orders((OrderState.SUBMITTING, OrderState.UNKNOWN)):
            approval = await self.store.get_approval(order.approval_id)
            found = await self.broker.find_by_client_id(order.approval_id)
            if found is not None and approval is not None:
                fill = Fill(ticket=found.ticket, symbol=found.symbol, direction=found.direction, volume=found.volume,
                            price=getattr(found, "open_price", None) or getattr(found, "price", 0.0),
                            ts_ms=getattr(found, "open_ts_ms", self._now()), client_id=order.approval_id)
                await self._filled(approval, fill, self._to_broker(approval.plan), fill.price)
                notes.append(f"{order.symbol}: the order of card {order.approval_id} was placed before the restart "
                             f"(ticket {found.ticket}); it is now tracked.")
                continue
            reason = "the bot stopped before the broker confirmed; the broker has no such order"
            await self.store.update_order(order.approval_id, OrderState.FAILED, self._now(), error=reason)
            if approval is not None:
                await self.store.transition(order.approval_id, (ApprovalState.EXECUTING,), ApprovalState.FAILED,
                                            note=reason)
                await self._journal("failed", f"not placed: {reason}", approval)
            notes.append(f"{order.symbol}: card {order.approval_id} was NOT placed ({reason}). Analyse again.")
        for approval in await self.store.list_approvals((ApprovalState.EXECUTING,)):
            if await self.store.get_order(approval.id) is None:  # claimed, but nothing was written or sent
                await self.store.transition(approval.id, (ApprovalState.EXECUTING,), ApprovalState.PENDING)
        return notes

    # ------------------------------------------------------------------ helpers

    async def _usable(self, approval_id: str, chat_id: int) -> Approval | Decision:
        approval = await self.store.get_approval(approval_id)
        if approval is None:
            return Decision("This signal is unknown; nothing was done.")
        if approval.chat_id != chat_id:
            return Decision("This card belongs to another chat; nothing was done.")
        if approval.state is ApprovalState.PENDING and approval.expires_ts_ms <= self._now():
            approval = await self._expire(approval) or approval
        if not approval.state.open:
            return await self._already(approval_id)
        return approval

    async def _already(self, approval_id: str) -> Decision:
        approval = await self.store.get_approval(approval_id)
        if approval is None:
            return Decision("This signal is unknown; nothing was done.")
        text = {
            ApprovalState.EXECUTED: f"Already executed (ticket {approval.ticket}); nothing new was placed.",
            ApprovalState.EXECUTING: "Already being executed; nothing new was placed.",
            ApprovalState.EXPIRED: "This card expired; nothing was executed. Run /analyse again.",
            ApprovalState.REJECTED: "This card was rejected.",
            ApprovalState.WAITING: "This signal is waiting for a re-check.",
        }.get(approval.state, f"This card is {approval.state.value}: {approval.note or 'closed'}.")
        return Decision(text)

    async def _journal(self, kind: str, text: str, approval: Approval, *, ticket: int | None = None,
                       data: dict | None = None) -> None:
        await self.store.add_journal(JournalEntry(ts_ms=self._now(), kind=kind, text=text, symbol=approval.symbol,
                                                  approval_id=approval.id, ticket=ticket or approval.ticket,
                                                  data=data))

    def _now(self) -> int:
        return self._clock.now_ms()


def _gates_record(report: RiskReport) -> dict[str, Any]:
    return {"allowed": report.allowed, "gates": [{"gate": getattr(r, "gate", ""), "allowed": r.allowed,
                                                  "text": getattr(r, "reason", None) or getattr(r, "note", "")}
                                                 for r in report.results],
            "volume": report.sizing.volume if report.sizing else None,
            "risk_account": report.sizing.risk_account if report.sizing else None}


def _digits(price: float) -> int:
    return 2 if price >= 100 else 5 if price < 10 else 3
