"""Scheduled trading jobs: thin functions that call core services and push through the Notifier."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable

from core.market.price_sync import PriceSync
from core.market.state import MarketState
from core.portfolio import Portfolio
from core.ports import Broker, BrokerError, Notifier
from core.trading import TradingService
from core.wait_rechecks import CardTools, recheck_waiting

log = logging.getLogger("moneybot.jobs")


async def expire_cards(trading: TradingService, notifier: Notifier | None) -> int:
    expired = await trading.expire_due()
    for approval in expired:
        if notifier is not None and approval.message_id is not None:
            await notifier.edit(approval.chat_id, approval.message_id, approval.card_html
                                + "\n\n⌛ <b>EXPIRED: not answered in time; nothing was executed.</b>")
    return len(expired)


async def recheck_waiting_cards(trading: TradingService, tools: CardTools, notifier: Notifier | None,
                                market: MarketState) -> int:
    def price_of(symbol: str) -> float | None:
        tick = market.tick(symbol)
        return tick.price if tick else None

    return await recheck_waiting(trading, tools, notifier, price_of)


async def feed_prices_to_positions(portfolio: Portfolio, market: MarketState) -> None:
    """Paper broker and exits from the price feed: every symbol's latest bid/ask, once a second."""
    if portfolio.monitor is None:
        return
    for symbol in market.symbols():
        info = market.price_info(symbol)
        if info is None:
            continue
        bid = info.bid if info.bid is not None else info.price
        ask = info.ask if info.ask is not None else info.price
        await portfolio.monitor.on_price(symbol, bid, ask, info.ts_ms)


async def poll_positions(portfolio: Portfolio) -> None:
    """Brokers that manage their own prices (MT5): sync and evaluate exits at the broker's quote."""
    if portfolio.monitor is not None:
        await portfolio.monitor.poll()


async def check_daily_loss(trading: TradingService, notifier: Notifier | None, admin_ids: Iterable[int]) -> bool:
    account = await trading.broker.account()
    positions = await trading.broker.positions()
    view, tripped = await trading.guard.evaluate(trading.clock.now_ms(), account.equity,
                                                 sum(p.unrealized_pnl for p in positions))
    if tripped and notifier is not None:
        text = (f"⛔ <b>Trading HALTED</b>: daily loss {view.loss_pct:.2f}% reached the limit "
                f"{trading.tunables['risk.daily_loss_limit_pct']:g}%. New trades are refused until the next "
                f"trading day; open positions are still managed. {html.escape(view.halted_reason)}")
        for admin in admin_ids:
            await notifier.send(admin, text)
    return tripped


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
