"""WAIT: re-check a waiting signal on a schedule or when price reaches the entry; a fresh card
with new buttons if it still holds, a clear "no longer valid" when it does not."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from core.analysis.synthesis import Analysis
from core.analysis_service import NotReady
from core.approvals import Approval, ApprovalState
from core.ports import Notifier
from core.trading import TradingService

Buttons = list[list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class CardTools:
    analyse: Callable[[str], Analysis]
    render: Callable[[Analysis], str]
    buttons: Callable[[str], Buttons]


def is_due(approval: Approval, price: float | None, now_ms: int, entry_zone_atr: float) -> bool:
    if approval.next_check_ts_ms is not None and approval.next_check_ts_ms <= now_ms:
        return True
    if approval.wait_until_ts_ms is not None and approval.wait_until_ts_ms <= now_ms:
        return True
    plan = approval.plan
    return price is not None and plan.atr > 0 and abs(price - plan.entry) <= entry_zone_atr * plan.atr


async def recheck_waiting(trading: TradingService, tools: CardTools, notifier: Notifier | None,
                          price_of: Callable[[str], float | None]) -> int:
    """One pass over WAITING approvals; returns how many were re-checked."""
    now = trading.clock.now_ms()
    zone = trading.tunables["approvals.entry_zone_atr"]
    checked = 0
    for approval in await trading.store.list_approvals((ApprovalState.WAITING,)):
        if not is_due(approval, price_of(approval.symbol), now, zone):
            continue
        checked += 1
        try:
            analysis: Analysis | None = tools.analyse(approval.symbol)
            why = "" if analysis.plan else (analysis.rejection or "no trade now")
        except NotReady as e:
            analysis, why = None, str(e)
        if analysis is not None and analysis.plan is not None and analysis.plan.direction == approval.plan.direction:
            await _fresh_card(trading, approval, analysis, tools, notifier)
        else:
            if analysis is not None and analysis.plan is not None:
                why = f"the setup turned {analysis.plan.direction.value}"
            await _not_yet(trading, approval, why, now, notifier)
    return checked


async def _fresh_card(trading: TradingService, approval: Approval, analysis: Analysis, tools: CardTools,
                      notifier: Notifier | None) -> None:
    old = await trading.store.transition(approval.id, (ApprovalState.WAITING,), ApprovalState.SUPERSEDED,
                                         note="re-checked: still valid, a fresh card was sent")
    if old is None or analysis.plan is None:
        return
    card = "🔁 <b>Re-check after WAIT</b>\n" + tools.render(analysis)
    fresh = await trading.open_approval(analysis.plan, card_html=card, card_price=analysis.price,
                                        source=analysis.source.value, chat_id=approval.chat_id,
                                        user_id=approval.requested_by, parent_id=approval.id)
    if notifier is not None:
        message_id = await notifier.send(approval.chat_id, card, buttons=tools.buttons(fresh.id))
        if message_id is not None:
            await trading.attach_message(fresh.id, message_id)


async def _not_yet(trading: TradingService, approval: Approval, why: str, now: int, notifier: Notifier | None
                   ) -> None:
    left = approval.wait_checks_left - 1
    out_of_time = approval.wait_until_ts_ms is not None and approval.wait_until_ts_ms <= now
    if left > 0 and not out_of_time:
        window = (approval.wait_until_ts_ms or now) - now
        await trading.store.transition(approval.id, (ApprovalState.WAITING,), ApprovalState.WAITING,
                                       wait_checks_left=left, next_check_ts_ms=now + max(window // left, 1000))
        return
    done = await trading.store.transition(approval.id, (ApprovalState.WAITING,), ApprovalState.INVALIDATED,
                                          note=f"no longer valid: {why}")
    if done is not None and notifier is not None:
        direction = approval.plan.direction.value.upper()
        await notifier.send(approval.chat_id, f"⏳ The waiting {direction} <b>{html.escape(approval.symbol)}</b> "
                                              f"signal is no longer valid: {html.escape(why)}. Nothing was executed.")
