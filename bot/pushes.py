"""Bus subscribers that push to Telegram: they render events with the handlers' own text helpers and
send them through the Notifier. Each runs on its own bounded queue (a slow chat slows nobody).

- cards issued without a message to answer (WAIT re-checks, scans, alerts) are pushed with buttons;
- a waiting signal that is no longer valid says so; an expired card loses its buttons;
- position events go to the chat of the card that opened the position;
- the daily-loss breaker goes to the admins.
"""

from __future__ import annotations

import logging

from bot.container import Services
from core.approvals import ApprovalState
from core.events import (
    ApprovalDecided,
    BreakerChanged,
    Decision,
    PositionChanged,
    PositionClosed,
    SignalIssued,
    Trigger,
    WaitOutcome,
    WaitResolved,
)
from core.models import Role
from db.cards import get_card, save_card
from handlers.ai_render import AI_CHECKING
from handlers.analysis import signal_card
from handlers.decisions import expired_block
from handlers.events_text import (
    breaker_text,
    position_changed_text,
    position_closed_text,
    wait_invalidated_text,
)
from handlers.trading import signal_buttons

log = logging.getLogger("moneybot.pushes")
_PREFIX = {Trigger.WAIT: "🔁 <b>Re-check after WAIT</b>\n"}


class Pushes:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def on_issued(self, event: SignalIssued) -> None:
        """A card nobody asked for in a message (WAIT re-check, scan, alert): push it with its buttons."""
        if event.trigger is Trigger.DEMAND or event.evaluation is None:
            return
        s = self._s
        card = signal_card(event.evaluation, s.symbol_map, s.tunables["approvals.ttl_s"],
                           prefix=_PREFIX.get(event.trigger, ""))
        await save_card(s.sessions, event.approval_id, card)
        message_id = await s.notifier.send(event.chat_id, card + (AI_CHECKING if event.screening else ""),
                                           buttons=signal_buttons(event.approval_id, event.executable))
        if message_id is not None:
            await s.trading.attach_message(event.approval_id, message_id)

    async def on_wait(self, event: WaitResolved) -> None:
        if event.outcome is WaitOutcome.INVALIDATED:
            await self._s.notifier.send(event.chat_id, wait_invalidated_text(event))

    async def on_decided(self, event: ApprovalDecided) -> None:
        """An expired card keeps its text and loses its buttons."""
        if event.decision is not Decision.EXPIRED:
            return
        approval = await self._s.store.get_approval(event.approval_id)
        if approval is None or approval.message_id is None or approval.state is not ApprovalState.EXPIRED:
            return
        card = await get_card(self._s.sessions, approval.id)
        await self._s.notifier.edit(approval.chat_id, approval.message_id, card + expired_block())

    async def on_position(self, event: PositionChanged | PositionClosed) -> None:
        if event.chat_id is None:
            return
        if isinstance(event, PositionClosed) and event.closed_by is not None:
            return  # closed through the bot: whoever closed it was answered in their chat
        s = self._s
        text = (position_closed_text(event, s.symbol_map, s.market.source) if isinstance(event, PositionClosed)
                else position_changed_text(event, s.symbol_map, s.market.source))
        await s.notifier.send(event.chat_id, text)

    async def on_breaker(self, event: BreakerChanged) -> None:
        for user in self._s.users.all():
            if user.role is Role.ADMIN:
                await self._s.notifier.send(user.telegram_id, breaker_text(event))


def subscribe_pushes(services: Services) -> Pushes:
    pushes = Pushes(services)
    bus = services.bus
    bus.subscribe("push:cards", pushes.on_issued, SignalIssued)
    bus.subscribe("push:wait", pushes.on_wait, WaitResolved)
    bus.subscribe("push:expiry", pushes.on_decided, ApprovalDecided)
    bus.subscribe("push:positions", pushes.on_position, PositionChanged, PositionClosed)
    bus.subscribe("push:breaker", pushes.on_breaker, BreakerChanged)
    return pushes
