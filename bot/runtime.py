"""The composition root: builds every service from Settings in one pass and owns their lifecycle.

``build_runtime(settings, bot)`` opens the database (migrating it), loads users and settings,
builds the typed ``Services`` container (market data, analysis, signals, broker, trading,
portfolio, the event bus and its subscribers, the notifier), starts the feed, the bus and the
scheduled jobs, and settles what a crash left behind. ``Runtime.dispatcher()`` gives the aiogram
Dispatcher whose handlers receive the services by name.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.ai import build_ai, subscribe_ai_pushes
from bot.app import build_dispatcher
from bot.config import Settings
from bot.container import Services
from bot.execution import build_execution
from bot.foundation import Foundation, open_foundation
from bot.notifier import TelegramNotifier
from bot.pushes import subscribe_pushes
from bot.scheduler import start_scheduler
from bot.services import build_market
from core.bus import EventBus
from core.ports import Clock
from core.tunables import TunableValues
from core.users import UserDirectory

log = logging.getLogger("moneybot.runtime")


@dataclass
class Runtime:
    foundation: Foundation
    services: Services
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def settings(self) -> Settings:
        return self.foundation.settings

    @property
    def users(self) -> UserDirectory:
        return self.foundation.users

    @property
    def tunables(self) -> TunableValues:
        return self.foundation.tunables

    @property
    def sessions(self) -> async_sessionmaker:
        return self.foundation.sessions

    @property
    def clock(self) -> Clock:
        return self.foundation.clock

    def dispatcher(self) -> Dispatcher:
        return build_dispatcher(self.services)

    async def close(self) -> None:
        try:
            await self.stack.aclose()
        finally:
            await self.foundation.engine.dispose()


async def build_runtime(settings: Settings, bot: Bot, *, clock: Clock | None = None,
                        extra_admin_ids: tuple[int, ...] = (), run_jobs: bool = True) -> Runtime:
    """Every service, built and started; ``run_jobs=False`` leaves the scheduled jobs to the caller."""
    foundation = await open_foundation(settings, clock=clock, extra_admin_ids=extra_admin_ids)
    stack = AsyncExitStack()
    try:
        bus = EventBus()
        stack.push_async_callback(bus.stop)
        notifier = TelegramNotifier(bot)
        market = await build_market(foundation, bus, stack)
        ai = await build_ai(foundation, bus, stack)
        execution = await build_execution(foundation, market, bus, stack, screening=ai.screening(
            foundation, symbol_map=market.symbol_map, notifier=notifier))
        services = Services(
            settings=settings, clock=foundation.clock, tunables=foundation.tunables, users=foundation.users,
            sessions=foundation.sessions, bus=bus, notifier=notifier, symbol_map=market.symbol_map,
            feed_health=market.health, health_watch=market.health_watch, market=market.state,
            market_feed=market.feed, history=market.history, data_source_label=market.label,
            analysis_service=market.analysis, candle_repairer=market.repairer, chart_lock=asyncio.Lock(), money=execution.money, broker=execution.broker,
            price_sync=execution.price_sync, store=execution.store, trading=execution.trading,
            portfolio=execution.portfolio, signals=execution.signals, evaluator=execution.evaluator,
            wait_rechecks=execution.wait_rechecks, ai=ai.reviewer, ai_ledger=ai.ledger)
        subscribe_pushes(services)
        subscribe_ai_pushes(services)
        await bus.start()
        await market.start(execution.evaluator)
        notes = await execution.settle()
        if run_jobs:
            scheduler = start_scheduler(services)
            stack.callback(scheduler.shutdown, wait=False)
        await _tell_admins(services, notes)
    except BaseException:
        await stack.aclose()
        await foundation.engine.dispose()
        raise
    return Runtime(foundation, services, stack)


async def _tell_admins(services: Services, notes: list[str]) -> None:
    from handlers.events_text import admin_note

    admins = [u.telegram_id for u in services.users.all() if u.role.value == "admin"]
    for note in notes:
        for admin in admins:
            await services.notifier.send(admin, admin_note(note))
