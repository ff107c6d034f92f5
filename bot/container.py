"""The typed service container: every long-lived service, built once by ``bot.runtime``.

Handlers receive any field by its name (aiogram passes workflow data by parameter name), so a
handler that needs the broker declares ``broker: Broker``. Jobs get theirs at registration.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from core.analysis_service import AnalysisService
from core.approvals import ApprovalStore
from core.bus import EventBus
from core.evaluation import ContinuousEvaluator
from core.llm.records import AiLedger
from core.llm.review import AiReviewer
from core.market.candle_repair import CandleRepairer
from core.market.health import FeedHealth
from core.market.health_watch import HealthWatch
from core.market.price_sync import PriceSync
from core.market.state import MarketState
from core.market.symbols import SymbolMap
from core.money import MoneyService
from core.portfolio import Portfolio
from core.ports import Broker, Clock, HistoryProvider, MarketFeed, Notifier
from core.signals import SignalService
from core.trading import TradingService
from core.tunables import TunableValues
from core.users import UserDirectory
from core.wait_rechecks import WaitRechecks


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    tunables: TunableValues
    users: UserDirectory
    sessions: async_sessionmaker
    bus: EventBus
    notifier: Notifier
    symbol_map: SymbolMap
    feed_health: FeedHealth
    health_watch: HealthWatch
    market: MarketState
    market_feed: MarketFeed
    history: HistoryProvider | None
    data_source_label: str
    analysis_service: AnalysisService
    candle_repairer: CandleRepairer | None
    chart_lock: asyncio.Lock
    money: MoneyService
    broker: Broker
    price_sync: PriceSync
    store: ApprovalStore
    trading: TradingService
    portfolio: Portfolio
    signals: SignalService
    evaluator: ContinuousEvaluator
    wait_rechecks: WaitRechecks
    ai: AiReviewer | None  # None without OPENAI_API_KEY
    ai_ledger: AiLedger

    def by_name(self) -> dict[str, Any]:
        """Every service under its field name (the dispatcher's workflow data)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
