"""Whale trades from the aggTrade ingest path, published as ``WhaleTrade`` events.

The hot path (``MarketState.apply``) only compares each trade's notional with a per-symbol floor
(the smallest whale tier in the symbol's quote currency); this tap is called for the few trades
above it, finds the tier and publishes. Floors follow the ``orderflow.whale_tier_*`` settings
(``refresh`` on a change). A symbol whose quote currency has no known USD rate gets no floor.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

from core.analysis.orderflow import TIER_NAMES, OrderFlowParams
from core.bus import EventBus
from core.events import WhaleTrade
from core.market.state import MarketState
from core.models import Trade
from core.tunables import TunableValues

USD_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD")


def usd_quoted(symbol: str) -> bool:
    """Quoted in dollars (or a dollar stablecoin), so a notional in the quote currency is in USD."""
    return symbol.upper().endswith(USD_QUOTES)


class WhaleTap:
    def __init__(self, bus: EventBus, tunables: TunableValues,
                 usd_per_quote: Callable[[str], float | None] | None = None) -> None:
        self._bus = bus
        self._tunables = tunables
        self._usd_per_quote = usd_per_quote or (lambda symbol: 1.0 if usd_quoted(symbol) else None)
        self._tiers_usd: tuple[float, ...] = ()
        self._refresh_tiers()

    def _refresh_tiers(self) -> None:
        self._tiers_usd = OrderFlowParams.from_tunables(self._tunables).tiers_usd

    def refresh(self, market: MarketState, symbols: Iterable[str]) -> None:
        """Set every symbol's floor from the current tiers (at start and when a tier setting changes)."""
        self._refresh_tiers()
        for symbol in symbols:
            rate = self._usd_per_quote(symbol)
            market.set_whale_floor(symbol, self._tiers_usd[0] / rate if rate else float("inf"))

    def on_trade(self, trade: Trade) -> None:
        """A trade above the floor (from the ingest path): publish it with its tier."""
        rate = self._usd_per_quote(trade.symbol)
        if not rate:
            return
        notional_usd = trade.price * trade.qty * rate
        index = bisect.bisect_right(self._tiers_usd, notional_usd) - 1
        if index < 0:
            return
        self._bus.publish(WhaleTrade(ts_ms=trade.ts_ms, symbol=trade.symbol, price=trade.price, qty=trade.qty,
                                     notional_usd=notional_usd, side=trade.side, tier=TIER_NAMES[index],
                                     trade_id=trade.trade_id))
