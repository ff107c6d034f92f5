"""Per-symbol scalar state of the simulator and its 1 s and 1 m candle accumulators."""

from __future__ import annotations

from core.feeds.sim_book import SimBook
from core.feeds.sim_profiles import SimSymbol
from core.feeds.sim_regimes import Regime
from core.models import Candle

MINUTE_MS = 60_000


class SymbolState:
    """One symbol's scalar state: ids, regime, its book, and the 1 s / 1 m candle accumulators."""

    __slots__ = ("spec", "book", "trade_id", "update_id", "regime", "regime_end_ms", "trend_sign",
                 "last_price", "count", "open", "high", "low", "close", "volume", "quote", "buy_volume",
                 "minute", "live_bars")

    def __init__(self, spec: SimSymbol, book: SimBook) -> None:
        self.spec = spec
        self.book = book
        self.trade_id = 0
        self.update_id = 1_000_000
        self.regime = Regime.TRENDING
        self.regime_end_ms = 0
        self.trend_sign = 1
        self.last_price = spec.start_price
        self.count = 0
        self.open = self.high = self.low = self.close = self.volume = self.quote = self.buy_volume = 0.0
        self.minute: list[float] | None = None  # open_ms, o, h, l, c, v, quote, trades, buy
        self.live_bars: list[tuple] = []

    def add_trade(self, price: float, qty: float, buy: bool) -> None:
        if self.count == 0:
            self.open = self.high = self.low = price
        elif price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.count += 1
        self.volume += qty
        self.quote += price * qty
        if buy:
            self.buy_volume += qty

    def close_second(self, open_ms: int) -> Candle:
        if self.count:
            candle = Candle(self.spec.symbol, "1s", open_ms, self.open, self.high, self.low, self.close,
                            self.volume, True, self.quote, self.count, self.buy_volume)
            self.last_price = self.close
        else:
            p = self.last_price
            candle = Candle(self.spec.symbol, "1s", open_ms, p, p, p, p, 0.0, True, 0.0, 0, 0.0)
        self.count = 0
        self.volume = self.quote = self.buy_volume = 0.0
        self._add_to_minute(candle)
        return candle

    def _add_to_minute(self, c: Candle) -> None:
        m = self.minute
        if m is None:
            self.minute = [c.open_time_ms - c.open_time_ms % MINUTE_MS, c.open, c.high, c.low, c.close,
                           c.volume, c.quote_volume, c.trades, c.taker_buy_volume]
        else:
            m[2] = max(m[2], c.high)
            m[3] = min(m[3], c.low)
            m[4] = c.close
            m[5] += c.volume
            m[6] += c.quote_volume
            m[7] += c.trades
            m[8] += c.taker_buy_volume
        if (c.open_time_ms + 1000) % MINUTE_MS == 0:
            m = self.minute
            self.live_bars.append((int(m[0]), MINUTE_MS, *m[1:]))
            self.minute = None
