"""Latest price of each symbol, with where it came from and how old it is.

Updates are on the hot path, so they write a few attributes of a small slotted record; the
``Tick`` model is built only when someone asks (``tick``, ``info``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.models import DataSource, Tick


class PriceOrigin(StrEnum):
    """Which message set the last price."""

    TRADE = "trade"
    KLINE = "kline"
    BOOK = "book mid"
    BROKER = "broker quote"


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """What ``/price SYMBOL`` shows: last price, its source and its age."""

    symbol: str
    price: float
    bid: float | None
    ask: float | None
    ts_ms: int
    age_s: float
    origin: PriceOrigin
    source: DataSource

    @property
    def spread(self) -> float | None:
        return None if self.bid is None or self.ask is None else self.ask - self.bid


class LatestPrice:
    """The mutable record behind a symbol's tick (``PriceCache.latest``); the ingest hot path
    writes it in place, everything else reads through ``PriceCache``."""

    __slots__ = ("ts_ms", "price", "origin", "bid", "ask", "book_ts_ms")

    def __init__(self) -> None:
        self.ts_ms = 0
        self.price = 0.0
        self.origin = PriceOrigin.TRADE
        self.bid: float | None = None
        self.ask: float | None = None
        self.book_ts_ms = 0


class PriceCache:
    """Latest tick per symbol. The newest message (by its own timestamp) sets the price."""

    __slots__ = ("source", "_latest")

    def __init__(self, source: DataSource = DataSource.LIVE) -> None:
        self.source = source
        self._latest: dict[str, LatestPrice] = {}

    def latest(self, symbol: str) -> LatestPrice:
        """The record of ``symbol`` (created empty), for writers that inline ``update``."""
        latest = self._latest.get(symbol)
        if latest is None:
            latest = self._latest[symbol] = LatestPrice()
        return latest

    def update(self, symbol: str, ts_ms: int, price: float, origin: PriceOrigin) -> None:
        latest = self._latest.get(symbol) or self.latest(symbol)
        if ts_ms >= latest.ts_ms:
            latest.ts_ms = ts_ms
            latest.price = price
            latest.origin = origin

    def update_book(self, symbol: str, ts_ms: int, bid: float, ask: float) -> None:
        """Best bid/ask; the mid becomes the price unless a trade or kline is newer."""
        latest = self._latest.get(symbol) or self.latest(symbol)
        if ts_ms >= latest.book_ts_ms:
            latest.bid = bid
            latest.ask = ask
            latest.book_ts_ms = ts_ms
        if ts_ms > latest.ts_ms:
            latest.ts_ms = ts_ms
            latest.price = (bid + ask) / 2.0
            latest.origin = PriceOrigin.BOOK

    def symbols(self) -> list[str]:
        return list(self._latest)

    def tick(self, symbol: str) -> Tick | None:
        latest = self._latest.get(symbol)
        if latest is None or not latest.ts_ms:
            return None
        return Tick(symbol, latest.ts_ms, latest.price, latest.bid, latest.ask, self.source)

    def info(self, symbol: str, now_ms: int) -> PriceInfo | None:
        latest = self._latest.get(symbol)
        if latest is None or not latest.ts_ms:
            return None
        return PriceInfo(symbol, latest.price, latest.bid, latest.ask, latest.ts_ms,
                         max(0.0, (now_ms - latest.ts_ms) / 1000.0), latest.origin, self.source)

    def age_s(self, symbol: str, now_ms: int) -> float | None:
        latest = self._latest.get(symbol)
        if latest is None or not latest.ts_ms:
            return None
        return max(0.0, (now_ms - latest.ts_ms) / 1000.0)
