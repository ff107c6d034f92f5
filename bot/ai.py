"""AI services: the openai client and the two stages, the ledger, budgets and the reviewer.

Without ``OPENAI_API_KEY`` only the ledger exists (``/costs`` still reports); the AI commands say
how to enable the AI and nothing else changes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.bus import EventBus
from core.events import AiBudgetReached
from core.llm.budget import BudgetGuard
from core.llm.ledger_writer import LedgerWriter
from core.llm.prices import PriceTable
from core.llm.review import AiReviewer
from core.llm.runner import StageRunner
from core.models import Role
from core.ports import Notifier
from db.ai import SqlAiLedger

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("moneybot.ai")


async def event_bus(runtime: Runtime) -> EventBus:
    """The runtime's event bus, started once."""
    bus = runtime.services.get("bus")
    if bus is None:
        bus = EventBus()
        await bus.start()
        runtime.stack.push_async_callback(bus.stop)
        runtime.services["bus"] = bus
    return bus


async def start_ai(runtime: Runtime) -> None:
    settings = runtime.settings
    ledger = SqlAiLedger(runtime.sessions)
    runtime.services.update(ai_ledger=ledger, ai=None)
    if not settings.ai_enabled:
        log.info("AI off: no OPENAI_API_KEY")
        return
    from core.llm.openai_chat import OpenAiChat, ServerTraits, make_client

    client = make_client(settings.openai_api_key, settings.openai_base_url)
    runtime.stack.push_async_callback(client.close)
    bus = await event_bus(runtime)
    writer = LedgerWriter(ledger)
    runtime.stack.push_async_callback(writer.close)
    prices = PriceTable.with_overrides(settings.llm_prices)
    runner = StageRunner(ledger=ledger, budget=BudgetGuard(ledger, runtime.tunables, runtime.clock), prices=prices,
                         clock=runtime.clock, writer=writer, publish=bus.publish)
    traits = ServerTraits()  # one server behind both stages
    runtime.services["ai"] = AiReviewer(
        screener=OpenAiChat(client, settings.llm_screener_model, traits),
        validator=OpenAiChat(client, settings.llm_validator_model, traits), runner=runner, writer=writer,
        tunables=runtime.tunables, clock=runtime.clock, publish=bus.publish)
    log.info("AI on: screener %s, validator %s, server %s", settings.llm_screener_model,
             settings.llm_validator_model, settings.openai_base_url or "OpenAI")


def push_budget_alerts(runtime: Runtime, notifier: Notifier) -> None:
    """Tell the admins, once per period, that a budget stopped the AI (issue 12 moves this to its outbox)."""
    bus = runtime.services.get("bus")
    if bus is None or runtime.services.get("ai") is None:
        return

    async def alert(event: AiBudgetReached) -> None:
        word = "daily" if event.period == "day" else "monthly"
        text = (f"⚠️ The {word} AI budget is reached (${event.spent_usd:.2f} of ${event.budget_usd:.2f}, "
                f"{event.period_key}): AI checks are skipped until the next {event.period}. Raise it with "
                f"/set ai.{word}_budget_usd VALUE.")
        for user in runtime.users.all():
            if user.role is Role.ADMIN:
                await notifier.send(user.telegram_id, text)

    bus.subscribe("ai-budget-alerts", alert, AiBudgetReached, maxsize=16)
