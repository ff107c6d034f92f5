"""Ports: the small Protocols through which core talks to the outside world.

Adapters live in ``core/feeds``, ``core/brokers`` and (later) ``core/llm``; the composition root
(``bot/``) picks the concrete ones. Tests use the fakes in ``tests/fakes.py``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from core.execution import BrokerEvent, ContractSpec
from core.models import (
    AccountInfo,
    Candle,
    DataSource,
    Fill,
    MarketEvent,
    OrderIntent,
    PendingOrder,
    Position,
    Quote,
    StreamKind,
)

if TYPE_CHECKING:
    from core.execution import ClosingDeals


@runtime_checkable
class Clock(Protocol):
    def now_ms(self) -> int: ...

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time (UTC)."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to (tests, simulator, replay)."""

    def __init__(self, ts_ms: int = 1_700_000_000_000) -> None:
        self._ts_ms = ts_ms

    def now_ms(self) -> int:
        return self._ts_ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._ts_ms / 1000, UTC)

    def set(self, ts_ms: int) -> None:
        self._ts_ms = ts_ms

    def advance(self, ms: int) -> None:
        self._ts_ms += ms


MarketHandler = Callable[[MarketEvent], None]


@runtime_checkable
class MarketFeed(Protocol):
    """A source of market events (live Binance, simulator, replay).

    ``subscribe`` registers a synchronous callback called for every event in arrival order;
    callbacks must be fast (they run on the ingest path). ``start`` returns once the feed is
    running (it spawns and owns its own tasks); ``stop`` cancels them.
    """

    source: DataSource

    def subscribe(self, handler: MarketHandler) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class HistoryProvider(Protocol):
    """Closed higher-timeframe candles (REST with an on-disk cache, or the simulator)."""

    async def klines(self, symbol: str, interval: str, *, limit: int = 500,
                     end_ms: int | None = None) -> list[Candle]:
        """Up to ``limit`` closed candles of ``symbol`` (trader symbol), oldest first, ending at
        the last candle closed at or before ``end_ms`` (default: now)."""
        ...


class FeedHealthSink(Protocol):
    """What a feed adapter reports about its connection; ``core.market.health`` implements it."""

    def record_message(self, symbol: str, stream: StreamKind, ts_ms: int) -> None: ...

    def record_malformed(self, stream: str, ts_ms: int, detail: str = "") -> None: ...

    def record_gap(self, symbol: str, stream: StreamKind, ts_ms: int, detail: str = "") -> None: ...

    def record_reconnect(self, symbols: list[str], reason: str, ts_ms: int) -> None: ...

    def record_connected(self, symbols: list[str], ts_ms: int) -> None: ...

    def record_disconnected(self, symbols: list[str], reason: str, ts_ms: int) -> None: ...


class BrokerError(Exception):
    """A broker refused or failed; ``message`` is readable by a trader."""

    def __init__(self, message: str, *, code: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class BrokerCapabilities:
    """What a broker offers beyond the common calls, so nobody asks which broker it is.

    ``prices_from_feed``: the broker fills at our own market feed's prices (the paper broker):
    feed it every price (``on_price``) and translate nothing (its basis is the identity). A broker
    with its own prices (MT5) is polled for positions and needs a calibrated price basis."""

    prices_from_feed: bool = False


class Broker(Protocol):
    name: str
    capabilities: BrokerCapabilities

    async def connect(self) -> None: ...

    async def contract_spec(self, symbol: str) -> ContractSpec: ...

    def on_price(self, symbol: str, bid: float, ask: float, ts_ms: int) -> list[BrokerEvent]:
        """A feed price (``prices_from_feed`` brokers fill stops, targets and pending orders from it)."""
        ...

    async def account(self) -> AccountInfo: ...

    async def quote(self, symbol: str) -> Quote: ...

    async def place(self, intent: OrderIntent) -> Fill: ...

    async def close(self, ticket: int, volume: float | None = None) -> Fill: ...

    async def modify(self, ticket: int, *, stop_loss: float | None, take_profit: float | None) -> None: ...

    async def positions(self) -> list[Position]: ...

    async def orders(self) -> list[PendingOrder]: ...

    async def cancel(self, ticket: int) -> None: ...

    async def find_by_client_id(self, client_id: str) -> Position | PendingOrder | None: ...


@runtime_checkable
class DealHistory(Protocol):
    """A broker that reports how a position closed from its own deals (MT5); see ``ClosingDeals``."""

    async def closing_deals(self, ticket: int) -> ClosingDeals | None: ...


class Notifier(Protocol):
    """Pushes a message to a chat outside any update (alerts, position events, expiry)."""

    async def send(self, chat_id: int, text_html: str, *, buttons: list[list[tuple[str, str]]] | None = None,
                   photo_png: bytes | None = None) -> int | None: ...

    async def edit(self, chat_id: int, message_id: int, text_html: str,
                   *, buttons: list[list[tuple[str, str]]] | None = None) -> None: ...


AsyncCallback = Callable[[], Awaitable[None]]
