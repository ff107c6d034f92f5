"""Scheduled trading jobs: thin functions that call core services (what they find is published)."""

from __future__ import annotations

import logging

from core.market.health_watch import HealthWatch
from core.market.price_sync import PriceSync
from core.market.state import MarketState
from core.portfolio import Portfolio
from core.ports import Broker, BrokerError
from core.trading import TradingService
from core.wait_rechecks import WaitRechecks

log = logging.getLogger("moneybot.jobs")


async def expire_cards(trading: TradingService) -> int:
    """Cards past their time-to-live expire (each publishes ApprovalDecided(EXPIRED))."""
    return len(await trading.expire_due())


async def recheck_waiting_cards(rechecks: WaitRechecks) -> int:
    return await rechecks.run()


async def feed_prices_to_positions(portfolio: Portfolio, market: MarketState) -> None:
    """Brokers that fill at our feed's prices (paper), and exits: every symbol's bid/ask, once a second."""
    for symbol in market.symbols():
        info = market.price_info(symbol)
        if info is None:
            continue
        bid = info.bid if info.bid is not None else info.price
        ask = info.ask if info.ask is not None else info.price
        await portfolio.monitor.on_price(symbol, bid, ask, info.ts_ms)


async def poll_positions(portfolio: Portfolio) -> None:
    """Brokers with their own prices (MT5): sync and evaluate exits at the broker's quote."""
    await portfolio.monitor.poll()


async def confirm_closes(portfolio: Portfolio) -> int:
    """Brokers that report deals (MT5): settle closes still provisional (each confirmed one publishes
    PositionClosed); how many were confirmed."""
    return len(await portfolio.confirm_closes())


async def check_daily_loss(trading: TradingService) -> bool:
    """The daily-loss breaker (publishes BreakerChanged when it trips or resets); True when halted."""
    return (await trading.check_breaker()).halted


def check_feed_health(watch: HealthWatch) -> int:
    """Feed health transitions (publishes FeedHealthChanged)."""
    return len(watch.check())


def advance_market(market: MarketState) -> None:
    """Close quiet seconds/minutes on time even when no trade arrives."""
    market.advance()


async def record_broker_quotes(price_sync: PriceSync, broker: Broker, market: MarketState) -> int:
    """Pair each broker quote with the Binance price so plans can be translated (MT5 basis)."""
    recorded = 0
    for symbol in market.symbols():
        tick = market.tick(symbol)
        if tick is None:
            continue
        try:
            quote = await broker.quote(symbol)
        except BrokerError as e:
            log.debug("no broker quote for %s: %s", symbol, e.message)
            continue
        recorded += price_sync.record_quote(symbol, tick.price, tick.ts_ms, quote.mid, quote.ts_ms)
    return recorded
