"""AI services: the openai client and the two stages, the ledger, budgets, the reviewer, and the
screening stage plugged into the signal pipeline; the presenter that edits AI verdicts into cards.

Without ``OPENAI_API_KEY`` only the ledger exists (``/costs`` still reports); the AI commands say
how to enable the AI and nothing else changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.approvals import ApprovalState, ApprovalStore
from core.bus import EventBus
from core.events import AiBudgetReached, SignalIssued
from core.llm.budget import BudgetGuard
from core.llm.ledger_writer import LedgerWriter
from core.llm.prices import PriceTable
from core.llm.review import AiReview, AiReviewer
from core.llm.runner import StageRunner
from core.llm.stage import AiScreening, summary_context
from core.market.price_sync import PriceSync
from core.market.symbols import SymbolMap
from core.models import Role
from core.ports import Notifier
from core.signals import ScreeningStage
from db.ai import SqlAiLedger
from db.cards import get_card, save_card
from handlers.ai_render import render_ai_section
from handlers.html import esc
from handlers.trading import signal_buttons

if TYPE_CHECKING:
    from bot.container import Services
    from bot.foundation import Foundation

log = logging.getLogger("moneybot.ai")
MESSAGE_WAIT_S = 10.0  # how long a fast verdict waits for its card to be sent


@dataclass(frozen=True, slots=True)
class AiBundle:
    ledger: SqlAiLedger
    reviewer: AiReviewer | None

    def screening(self, foundation: Foundation, *, symbol_map: SymbolMap, notifier: Notifier
                  ) -> Callable[[ApprovalStore, PriceSync], ScreeningStage] | None:
        """The screening stage for the signal pipeline, once the store and the price basis exist."""
        reviewer = self.reviewer
        if reviewer is None:
            return None

        def build(store: ApprovalStore, price_sync: PriceSync) -> ScreeningStage:
            def context(symbol: str):
                return summary_context(symbol, symbol_map=symbol_map, price_sync=price_sync,
                                       tunables=foundation.tunables, clock=foundation.clock)

            presenter = CardPresenter(store=store, sessions=foundation.sessions, notifier=notifier,
                                      symbol_map=symbol_map)
            return AiScreening(reviewer=reviewer, tunables=foundation.tunables, context=context, presenter=presenter)

        return build


async def build_ai(foundation: Foundation, bus: EventBus, stack: AsyncExitStack) -> AiBundle:
    settings = foundation.settings
    ledger = SqlAiLedger(foundation.sessions)
    if not settings.ai_enabled:
        log.info("AI off: no OPENAI_API_KEY")
        return AiBundle(ledger, None)
    from core.llm.openai_chat import OpenAiChat, ServerTraits, make_client

    client = make_client(settings.openai_api_key, settings.openai_base_url)
    stack.push_async_callback(client.close)
    writer = LedgerWriter(ledger)
    stack.push_async_callback(writer.close)
    runner = StageRunner(ledger=ledger, budget=BudgetGuard(ledger, foundation.tunables, foundation.clock),
                         prices=PriceTable.with_overrides(settings.llm_prices), clock=foundation.clock,
                         writer=writer, publish=bus.publish)
    traits = ServerTraits()  # one server behind both stages
    reviewer = AiReviewer(screener=OpenAiChat(client, settings.llm_screener_model, traits),
                          validator=OpenAiChat(client, settings.llm_validator_model, traits), runner=runner,
                          writer=writer, tunables=foundation.tunables, clock=foundation.clock, publish=bus.publish)
    log.info("AI on: screener %s, validator %s, server %s", settings.llm_screener_model,
             settings.llm_validator_model, settings.openai_base_url or "OpenAI")
    return AiBundle(ledger, reviewer)


class CardPresenter:
    """Edits a review into its card while the card is open (its buttons kept, whatever the AI said);
    once the trader has decided, the verdict comes as a message of its own instead."""

    def __init__(self, *, store: ApprovalStore, sessions, notifier: Notifier, symbol_map: SymbolMap) -> None:
        self._store = store
        self._sessions = sessions
        self._notifier = notifier
        self._symbol_map = symbol_map

    async def present(self, issued: SignalIssued, review: AiReview) -> None:
        section = render_ai_section(review, issued.plan, self._symbol_map.spec(issued.symbol).price_digits)
        approval = await self._store.get_approval(issued.approval_id)
        deadline = asyncio.get_running_loop().time() + MESSAGE_WAIT_S
        while approval is not None and approval.message_id is None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)  # a cached verdict can beat the card to the chat
            approval = await self._store.get_approval(issued.approval_id)
        if approval is None or approval.message_id is None or approval.state is not ApprovalState.PENDING:
            await self._notifier.send(issued.chat_id, f"AI verdict for the {esc(issued.symbol)} card "
                                                      f"{esc(issued.approval_id)}:" + section)
            return
        card = await get_card(self._sessions, approval.id)
        await self._notifier.edit(approval.chat_id, approval.message_id, card + section,
                                  buttons=signal_buttons(approval.id, issued.executable))
        await save_card(self._sessions, approval.id, card + section)


def subscribe_ai_pushes(services: Services) -> None:
    """Tell the admins, once per period, that a budget stopped the AI."""
    if services.ai is None:
        return

    async def alert(event: AiBudgetReached) -> None:
        word = "daily" if event.period == "day" else "monthly"
        text = (f"⚠️ The {word} AI budget is reached (${event.spent_usd:.2f} of ${event.budget_usd:.2f}, "
                f"{event.period_key}): AI checks are skipped until the next {event.period}. Raise it with "
                f"/set ai.{word}_budget_usd VALUE.")
        for user in services.users.all():
            if user.role is Role.ADMIN:
                await services.notifier.send(user.telegram_id, text)

    services.bus.subscribe("push:ai-budget", alert, AiBudgetReached, maxsize=16)
