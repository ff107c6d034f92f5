"""WAIT: re-check a waiting signal on a schedule or when price reaches the entry.

Still valid (same direction): the old card is SUPERSEDED and a fresh one is issued through the
signal use case (trigger WAIT; the bot pushes it with new buttons). Not valid after the last
re-check (or the window closed): INVALIDATED. Both outcomes are published as ``WaitResolved``.
"""

from __future__ import annotations

from collections.abc import Callable

from core.analysis_service import NotReady
from core.approvals import Approval, ApprovalState
from core.bus import EventBus
from core.events import SignalEvaluated, Trigger, WaitOutcome, WaitResolved
from core.signals import SignalService
from core.trading import TradingService


def is_due(approval: Approval, price: float | None, now_ms: int, entry_zone_atr: float) -> bool:
    if approval.next_check_ts_ms is not None and approval.next_check_ts_ms <= now_ms:
        return True
    if approval.wait_until_ts_ms is not None and approval.wait_until_ts_ms <= now_ms:
        return True
    plan = approval.plan
    return price is not None and plan.atr > 0 and abs(price - plan.entry) <= entry_zone_atr * plan.atr


class WaitRechecks:
    def __init__(self, *, trading: TradingService, signals: SignalService, bus: EventBus,
                 price_of: Callable[[str], float | None]) -> None:
        self._trading = trading
        self._signals = signals
        self._bus = bus
        self._price_of = price_of

    async def run(self) -> int:
        """One pass over WAITING approvals; returns how many were re-checked."""
        trading = self._trading
        now = trading.clock.now_ms()
        zone = trading.tunables["approvals.entry_zone_atr"]
        checked = 0
        for approval in await trading.store.list_approvals((ApprovalState.WAITING,)):
            if not is_due(approval, self._price_of(approval.symbol), now, zone):
                continue
            checked += 1
            try:
                evaluation: SignalEvaluated | None = await self._signals.evaluate(approval.symbol,
                                                                                  trigger=Trigger.WAIT)
                why = "" if evaluation.plan else (evaluation.rejection or "no trade now")
            except NotReady as e:
                evaluation, why = None, str(e)
            plan = evaluation.plan if evaluation is not None else None
            if evaluation is not None and plan is not None and plan.direction == approval.plan.direction:
                await self._fresh_card(approval, evaluation)
            else:
                if plan is not None:
                    why = f"the setup turned {plan.direction.value}"
                await self._not_yet(approval, why, now)
        return checked

    async def _fresh_card(self, approval: Approval, evaluation: SignalEvaluated) -> None:
        old = await self._trading.store.transition(approval.id, (ApprovalState.WAITING,), ApprovalState.SUPERSEDED,
                                                   note="re-checked: still valid, a fresh card was sent")
        if old is None:
            return
        fresh = await self._signals.issue(evaluation, chat_id=approval.chat_id, user_id=approval.requested_by,
                                          parent_id=approval.id)
        self._bus.publish(WaitResolved(ts_ms=self._trading.clock.now_ms(), approval_id=approval.id,
                                       symbol=approval.symbol, direction=approval.plan.direction,
                                       outcome=WaitOutcome.STILL_VALID, chat_id=approval.chat_id,
                                       new_approval_id=fresh.approval.id))

    async def _not_yet(self, approval: Approval, why: str, now: int) -> None:
        store = self._trading.store
        left = approval.wait_checks_left - 1
        out_of_time = approval.wait_until_ts_ms is not None and approval.wait_until_ts_ms <= now
        if left > 0 and not out_of_time:
            window = (approval.wait_until_ts_ms or now) - now
            await store.transition(approval.id, (ApprovalState.WAITING,), ApprovalState.WAITING,
                                   wait_checks_left=left, next_check_ts_ms=now + max(window // left, 1000))
            return
        done = await store.transition(approval.id, (ApprovalState.WAITING,), ApprovalState.INVALIDATED,
                                      note=f"no longer valid: {why}")
        if done is not None:
            self._bus.publish(WaitResolved(ts_ms=now, approval_id=approval.id, symbol=approval.symbol,
                                           direction=approval.plan.direction, outcome=WaitOutcome.INVALIDATED,
                                           chat_id=approval.chat_id, reason=why))
