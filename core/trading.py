"""The approval flow as a use case: EXECUTE / WAIT / REJECT a card, expire it, settle crashes.

Approvals are created by ``core.signals.SignalService`` only. Every state change goes to the
ApprovalStore first. EXECUTE claims the approval with a compare-and-set, re-runs the safety
gates at the moment of the press, translates the plan to the broker's prices, writes the order
record (one per approval, enforced by the store), and only then calls the broker.
``reconcile`` settles what a crash left between those steps.

Results are facts (``DecisionResult``) and events on the bus; the bot renders them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from core.approvals import Approval, ApprovalState, ApprovalStore, JournalEntry, OrderRecord, OrderState
from core.bus import EventBus
from core.events import ApprovalDecided, BreakerChanged, Decision, OrderPlaced, OrderRefused
from core.market.health import FeedHealth
from core.market.price_sync import BasisUnavailable, PriceSync
from core.market.state import MarketState
from core.models import Fill, OrderIntent, TradePlan
from core.money import MoneyService, RateUnavailable
from core.ports import Broker, BrokerError, Clock
from core.risk import RiskLimits, RiskReport, TradeCheck, TradingState, check_all
from core.trading_state import BreakerView, TradingGuard
from core.tunables import TunableValues

log = logging.getLogger("moneybot.trading")
OPEN = (ApprovalState.PENDING, ApprovalState.WAITING)
CrashHook = Callable[[str], None]
Manage = Callable[[Fill, TradePlan, Approval], Awaitable[None]]


class Outcome(StrEnum):
    EXECUTED = "executed"
    REFUSED = "refused"  # a gate said no
    FAILED = "failed"  # the broker said no
    UNCONFIRMED = "unconfirmed"  # the broker call failed unexpectedly: reconcile will settle it
    REJECTED = "rejected"
    WAITING = "waiting"
    ALREADY = "already"  # the card was decided before (``approval.state`` says how)
    UNKNOWN_CARD = "unknown_card"
    OTHER_CHAT = "other_chat"
    DUPLICATE_ORDER = "duplicate_order"


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """What a button press did: the facts the bot turns into an alert and the card's new status."""

    outcome: Outcome
    approval: Approval | None = None
    reason: str = ""
    gate: str = ""
    fill: Fill | None = None
    by_user_id: int | None = None
    wait_checks: int = 0
    wait_window_min: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.EXECUTED, Outcome.REJECTED, Outcome.WAITING)

    @property
    def changed_card(self) -> bool:
        """True when the card's status changed and its buttons should go."""
        return self.outcome in (Outcome.EXECUTED, Outcome.REFUSED, Outcome.FAILED, Outcome.REJECTED,
                                Outcome.WAITING)


class TradingService:
    def __init__(self, *, store: ApprovalStore, broker: Broker, market: MarketState, health: FeedHealth,
                 price_sync: PriceSync, guard: TradingGuard, tunables: TunableValues, clock: Clock, bus: EventBus,
                 money: MoneyService,
                 manage: Manage | None = None, crash_hook: CrashHook | None = None) -> None:
        self.store = store
        self.broker = broker
        self._market = market
        self._health = health
        self._price_sync = price_sync
        self.guard = guard
        self.tunables = tunables
        self.clock = clock
        self._bus = bus
        self._money = money
        self._manage = manage
        self._crash = crash_hook or (lambda _point: None)
        self._breaker_halted: bool | None = None  # as last seen by check_breaker (None: not yet)

    async def attach_message(self, approval_id: str, message_id: int) -> None:
        await self.store.set_message(approval_id, message_id)

    # ------------------------------------------------------------------ decisions

    async def reject(self, approval_id: str, *, user_id: int, chat_id: int) -> DecisionResult:
        found = await self._usable(approval_id, chat_id)
        if isinstance(found, DecisionResult):
            return found
        done = await self.store.transition(approval_id, OPEN, ApprovalState.REJECTED, decided_by=user_id,
                                           decided_ts_ms=self._now(), note="rejected by the trader")
        if done is None:
            return await self._already(approval_id)
        await self._journal("decision", f"REJECT by {user_id}", done)
        self._decided(done, Decision.REJECT, user_id)
        return DecisionResult(Outcome.REJECTED, done, by_user_id=user_id)

    async def wait(self, approval_id: str, *, user_id: int, chat_id: int) -> DecisionResult:
        found = await self._usable(approval_id, chat_id)
        if isinstance(found, DecisionResult):
            return found
        now = self._now()
        checks = self.tunables["approvals.wait_rechecks"]
        window_ms = self.tunables["approvals.wait_window_min"] * 60_000
        done = await self.store.transition(
            approval_id, (ApprovalState.PENDING,), ApprovalState.WAITING, decided_by=user_id, decided_ts_ms=now,
            wait_checks_left=checks, next_check_ts_ms=now + window_ms // checks, wait_until_ts_ms=now + window_ms)
        if done is None:
            return await self._already(approval_id)
        await self._journal("decision", f"WAIT by {user_id}: up to {checks} re-checks", done)
        self._decided(done, Decision.WAIT, user_id)
        return DecisionResult(Outcome.WAITING, done, by_user_id=user_id, wait_checks=checks,
                              wait_window_min=window_ms // 60_000)

    async def execute(self, approval_id: str, *, user_id: int, chat_id: int) -> DecisionResult:
        found = await self._usable(approval_id, chat_id)
        if isinstance(found, DecisionResult):
            return found
        claimed = await self.store.transition(approval_id, OPEN, ApprovalState.EXECUTING, decided_by=user_id,
                                              decided_ts_ms=self._now())
        if claimed is None:
            return await self._already(approval_id)
        await self._journal("decision", f"EXECUTE by {user_id}", claimed)
        self._decided(claimed, Decision.EXECUTE, user_id)
        try:
            return await self._place(claimed, user_id)
        except Exception:
            log.exception("execution of approval %s failed unexpectedly", approval_id)
            await self.store.update_order(approval_id, OrderState.UNKNOWN, self._now())
            return DecisionResult(Outcome.UNCONFIRMED, claimed, "the broker did not confirm", by_user_id=user_id)

    async def _place(self, approval: Approval, user_id: int) -> DecisionResult:
        plan = approval.plan
        report, quote_mid = await self.gates(approval.plan, approval.card_price)
        if not report.allowed or report.sizing is None:
            gate = report.denials[0].gate if report.denials else "size"
            return await self._refuse(approval, report.summary(), gate, report, user_id)
        try:
            broker_plan = self._to_broker(plan)
        except BasisUnavailable as e:
            return await self._refuse(approval, str(e), "basis", report, user_id)
        intent = OrderIntent(symbol=plan.symbol, direction=plan.direction, volume=report.sizing.volume,
                             stop_loss=broker_plan.stop, take_profit=broker_plan.targets[-1],
                             client_id=approval.id, comment=f"mb:{approval.id}")
        record = OrderRecord(approval.id, plan.symbol, plan.direction, intent.volume, OrderState.SUBMITTING,
                             stop_loss=intent.stop_loss, take_profit=intent.take_profit)
        if not await self.store.add_order(record, gates=_gates_record(report), basis=self._basis_record(plan.symbol),
                                          ts_ms=self._now()):
            return DecisionResult(Outcome.DUPLICATE_ORDER, approval, "an order for this card already exists")
        self._crash("before_broker")
        try:
            fill = await self.broker.place(intent)
        except BrokerError as e:
            await self.store.update_order(approval.id, OrderState.FAILED, self._now(), error=e.message)
            failed = await self.store.transition(approval.id, (ApprovalState.EXECUTING,), ApprovalState.FAILED,
                                                 note=e.message)
            await self._journal("failed", f"broker refused: {e.message}", failed or approval)
            self._refused_event(approval, "broker", e.message)
            return DecisionResult(Outcome.FAILED, failed or approval, e.message, "broker", by_user_id=user_id)
        self._crash("after_broker")
        return await self._filled(approval, fill, broker_plan, quote_mid, user_id)

    async def _filled(self, approval: Approval, fill: Fill, broker_plan: TradePlan, quote_mid: float,
                      user_id: int | None) -> DecisionResult:
        await self.store.update_order(approval.id, OrderState.FILLED, self._now(), ticket=fill.ticket,
                                      fill_price=fill.price, volume=fill.volume)
        done = await self.store.transition(approval.id, (ApprovalState.EXECUTING,), ApprovalState.EXECUTED,
                                           ticket=fill.ticket)
        current = done or approval
        await self._journal("fill", f"EXECUTED: ticket {fill.ticket}, {fill.direction.value} {fill.volume:g} "
                            f"{fill.symbol} @ {fill.price:.10g}", current, ticket=fill.ticket,
                            data={"fill_price": fill.price, "volume": fill.volume, "card_mid": quote_mid})
        self._bus.publish(OrderPlaced(ts_ms=fill.ts_ms, approval_id=approval.id, symbol=fill.symbol,
                                      direction=fill.direction, ticket=fill.ticket, volume=fill.volume,
                                      price=fill.price, chat_id=approval.chat_id, broker=self.broker.name))
        if self._manage is not None:
            await self._manage(fill, broker_plan, current)
        return DecisionResult(Outcome.EXECUTED, current, fill=fill, by_user_id=user_id)

    async def _refuse(self, approval: Approval, reason: str, gate: str, report: RiskReport,
                      user_id: int) -> DecisionResult:
        refused = await self.store.transition(approval.id, (ApprovalState.EXECUTING,), ApprovalState.REFUSED,
                                              note=reason)
        await self._journal("refused", f"not placed: {reason}", refused or approval, data=_gates_record(report))
        self._refused_event(approval, gate, reason)
        return DecisionResult(Outcome.REFUSED, refused or approval, reason, gate, by_user_id=user_id)

    # ------------------------------------------------------------------ gates

    async def gates(self, plan: TradePlan, card_price: float) -> tuple[RiskReport, float]:
        """Every EXECUTE gate for ``plan`` now, at the broker's quote."""
        quote = await self.broker.quote(plan.symbol)
        account = await self.broker.account()
        open_items = [*await self.broker.positions(), *await self.broker.orders()]
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
            stop=plan.stop, card_price=card_price, bid=quote.bid, ask=quote.ask, equity=account.equity,
            spec=await self.broker.contract_spec(plan.symbol), start_equity=breaker.start_equity,
            realized_pnl_today=breaker.realized_today, open_pnl_today=breaker.open_pnl_change, atr=plan.atr,
            feed_status=status,
            trading_state=TradingState.HALTED if breaker.halted else TradingState.ACTIVE,
            paused=self.guard.paused, halted_reason=breaker.halted_reason, open_positions=open_items,
            closes=self._closes(symbols), quote_to_account=rate, rate_problem=rate_problem,
            reference_mid=reference_mid, basis_problem=basis_problem)
        return check_all(check, RiskLimits.from_values(self.tunables.snapshot())), quote.mid

    async def precheck(self, plan: TradePlan, card_price: float) -> tuple[str, ...]:
        """Why EXECUTE on a card for ``plan`` would be refused right now (empty: it would pass).

        The same gates as the press (drift is zero at the card's own price; the basis gate says when
        the broker's prices cannot be translated yet)."""
        try:
            report, _mid = await self.gates(plan, card_price)
        except BrokerError as e:
            return (f"no broker quote: {e.message}",)
        return tuple(d.reason for d in report.denials)

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

    async def check_breaker(self) -> BreakerView:
        """Advance the daily-loss breaker; publish ``BreakerChanged`` when it trips or resets."""
        account = await self.broker.account()
        positions = await self.broker.positions()
        view, tripped = await self.guard.evaluate(self._now(), account.equity,
                                                  sum(p.unrealized_pnl for p in positions))
        limit = self.tunables["risk.daily_loss_limit_pct"]
        if tripped:
            self._bus.publish(BreakerChanged(ts_ms=self._now(), tripped=True, reason=view.halted_reason,
                                             loss_pct=view.loss_pct, limit_pct=limit))
        elif self._breaker_halted and not view.halted:
            self._bus.publish(BreakerChanged(ts_ms=self._now(), tripped=False, reason="a new trading day began",
                                             loss_pct=view.loss_pct, limit_pct=limit))
        self._breaker_halted = view.halted
        return view

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
            self._decided(done, Decision.EXPIRED, None)
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
                await self._filled(approval, fill, self._to_broker(approval.plan), fill.price, None)
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

    async def _usable(self, approval_id: str, chat_id: int) -> Approval | DecisionResult:
        approval = await self.store.get_approval(approval_id)
        if approval is None:
            return DecisionResult(Outcome.UNKNOWN_CARD)
        if approval.chat_id != chat_id:
            return DecisionResult(Outcome.OTHER_CHAT, approval)
        if approval.state is ApprovalState.PENDING and approval.expires_ts_ms <= self._now():
            approval = await self._expire(approval) or approval
        if not approval.state.open:
            return await self._already(approval_id)
        return approval

    async def _already(self, approval_id: str) -> DecisionResult:
        approval = await self.store.get_approval(approval_id)
        if approval is None:
            return DecisionResult(Outcome.UNKNOWN_CARD)
        return DecisionResult(Outcome.ALREADY, approval, approval.note or "")

    def _decided(self, approval: Approval, decision: Decision, user_id: int | None) -> None:
        self._bus.publish(ApprovalDecided(ts_ms=self._now(), approval_id=approval.id, symbol=approval.symbol,
                                          decision=decision, chat_id=approval.chat_id, by_user_id=user_id,
                                          note=approval.note or ""))

    def _refused_event(self, approval: Approval, gate: str, reason: str) -> None:
        self._bus.publish(OrderRefused(ts_ms=self._now(), approval_id=approval.id, symbol=approval.symbol,
                                       gate=gate, reason=reason, chat_id=approval.chat_id))

    async def _journal(self, kind: str, text: str, approval: Approval, *, ticket: int | None = None,
                       data: dict | None = None) -> None:
        await self.store.add_journal(JournalEntry(ts_ms=self._now(), kind=kind, text=text, symbol=approval.symbol,
                                                  approval_id=approval.id, ticket=ticket or approval.ticket,
                                                  data=data))

    def _now(self) -> int:
        return self.clock.now_ms()


def _gates_record(report: RiskReport) -> dict[str, Any]:
    return {"allowed": report.allowed, "gates": [{"gate": getattr(r, "gate", ""), "allowed": r.allowed,
                                                  "text": getattr(r, "reason", None) or getattr(r, "note", "")}
                                                 for r in report.results],
            "volume": report.sizing.volume if report.sizing else None,
            "risk_account": report.sizing.risk_account if report.sizing else None}
