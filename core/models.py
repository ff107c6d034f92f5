"""Core domain models: frozen, slotted dataclasses shared by every layer.

Conventions:
- Prices, quantities and money are ``float`` (market data arrives at thousands of messages a
  second; Decimal would cost more than it saves). Units are in the names: ``ts_ms``, ``qty``
  (base units), ``notional_usd``, ``risk_pct``.
- ``symbol`` is always the trader's canonical symbol (``BTCUSD``, ``XAUUSD``); the feed adapters
  translate exchange names at the edge. A stream without a mapping keeps its exchange name.
- Times are UTC epoch milliseconds (``ts_ms``) unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

# ---------------------------------------------------------------------------- enums


class Side(StrEnum):
    """Aggressor side of a trade, or the side of an order."""

    BUY = "buy"
    SELL = "sell"


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        return 1 if self is Direction.LONG else -1

    @property
    def opposite(self) -> Direction:
        return Direction.SHORT if self is Direction.LONG else Direction.LONG


class DataSource(StrEnum):
    """Where market data comes from; anything but LIVE is labelled in what the bot shows."""

    LIVE = "LIVE"
    SIMULATED = "SIMULATED"
    REPLAY = "REPLAY"


class StreamKind(StrEnum):
    KLINE = "kline"
    DEPTH = "depth"
    TRADE = "aggTrade"


# ---------------------------------------------------------------------------- intervals

_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}
MONTH_MS = 30 * 86_400_000  # nominal; real 1M buckets start on the 1st of each month

HTF_INTERVALS: tuple[str, ...] = ("1h", "4h", "1d", "3d", "1w", "1M")


def interval_ms(interval: str) -> int:
    """Nominal length of a Binance interval string (``1s``, ``5m``, ``4h``, ``1w``, ``1M``)."""
    if interval.endswith("M"):
        return int(interval[:-1] or 1) * MONTH_MS
    try:
        return int(interval[:-1]) * _UNIT_MS[interval[-1]]
    except (KeyError, ValueError) as e:
        raise ValueError(f"unknown interval {interval!r}") from e


def close_end_ms(open_time_ms: np.ndarray, interval: str) -> np.ndarray:
    """Exclusive end of each candle (its close time + 1 ms), exact for calendar months."""
    opens = np.asarray(open_time_ms, dtype=np.int64)
    if interval.endswith("M"):
        step = int(interval[:-1] or 1)
        months = opens.astype("datetime64[ms]").astype("datetime64[M]")
        return (months + step).astype("datetime64[ms]").astype(np.int64)
    return opens + interval_ms(interval)


# ---------------------------------------------------------------------------- market data


@dataclass(frozen=True, slots=True)
class Candle:
    symbol: str
    interval: str
    open_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float  # base units
    closed: bool = True
    quote_volume: float = 0.0
    trades: int = 0
    taker_buy_volume: float = 0.0  # base units bought by aggressive buyers

    @property
    def close_time_ms(self) -> int:
        return self.open_time_ms + interval_ms(self.interval) - 1


@dataclass(frozen=True, slots=True)
class Trade:
    """An aggregated trade; ``side`` is the aggressor (taker) side."""

    symbol: str
    trade_id: int
    price: float
    qty: float
    ts_ms: int
    side: Side

    @property
    def notional(self) -> float:
        return self.price * self.qty


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Top-N order book (N = 20 from ``depth20``); bids best-first descending, asks ascending."""

    symbol: str
    ts_ms: int
    last_update_id: int
    bids: tuple[tuple[float, float], ...]  # (price, qty)
    asks: tuple[tuple[float, float], ...]

    @property
    def best_bid(self) -> float | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> float | None:
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> float | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2.0

    @property
    def spread(self) -> float | None:
        if not self.bids or not self.asks:
            return None
        return self.asks[0][0] - self.bids[0][0]


@dataclass(frozen=True, slots=True)
class Tick:
    """Latest price of a symbol, as the price cache holds it."""

    symbol: str
    ts_ms: int
    price: float
    bid: float | None = None
    ask: float | None = None
    source: DataSource = DataSource.LIVE


MarketEvent = Candle | Trade | BookSnapshot


@dataclass(frozen=True, slots=True, eq=False)
class CandleArrays:
    """A column view of consecutive closed candles (oldest first) for vectorised analysis.

    Arrays are float64 (``open_time_ms`` int64) and equally long; treat them as read-only.
    """

    symbol: str
    interval: str
    open_time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.close.shape[0])

    @classmethod
    def from_candles(cls, symbol: str, interval: str, candles: list[Candle] | tuple[Candle, ...]) -> CandleArrays:
        return cls(
            symbol=symbol,
            interval=interval,
            open_time_ms=np.fromiter((c.open_time_ms for c in candles), dtype=np.int64, count=len(candles)),
            open=np.fromiter((c.open for c in candles), dtype=np.float64, count=len(candles)),
            high=np.fromiter((c.high for c in candles), dtype=np.float64, count=len(candles)),
            low=np.fromiter((c.low for c in candles), dtype=np.float64, count=len(candles)),
            close=np.fromiter((c.close for c in candles), dtype=np.float64, count=len(candles)),
            volume=np.fromiter((c.volume for c in candles), dtype=np.float64, count=len(candles)),
        )

    def tail(self, n: int) -> CandleArrays:
        return CandleArrays(self.symbol, self.interval, self.open_time_ms[-n:], self.open[-n:],
                            self.high[-n:], self.low[-n:], self.close[-n:], self.volume[-n:])

    def until(self, ts_ms: int) -> CandleArrays:
        """Only candles that had closed by ``ts_ms`` (no look-ahead)."""
        end = int(np.searchsorted(close_end_ms(self.open_time_ms, self.interval), ts_ms, side="right"))
        return CandleArrays(self.symbol, self.interval, self.open_time_ms[:end], self.open[:end],
                            self.high[:end], self.low[:end], self.close[:end], self.volume[:end])


@dataclass(frozen=True, slots=True)
class Quote:
    """A broker's bid/ask for its own symbol name."""

    symbol: str
    bid: float
    ask: float
    ts_ms: int

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0


# ---------------------------------------------------------------------------- analysis


class ZoneKind(StrEnum):
    SUPPORT = "support"
    RESISTANCE = "resistance"


@dataclass(frozen=True, slots=True)
class Zone:
    """A support/resistance zone built from clustered swing levels on several timeframes."""

    low: float
    high: float
    kind: ZoneKind
    touches: int
    timeframes: tuple[str, ...]
    score: float  # confluence 0..100

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2.0


@dataclass(frozen=True, slots=True)
class TradePlan:
    symbol: str
    direction: Direction
    entry: float
    stop: float
    targets: tuple[float, ...]  # T1..T3, nearest first (fewer when the target cap leaves fewer)
    risk_reward: float  # reward to target ``reward_target`` over risk
    confidence: float  # 0..100
    setup_type: str  # breakout | zone_rejection | trend_pullback | ...
    timeframe: str
    atr: float
    size_units: float = 0.0  # the size in base units (volume x contract size); 0: not sized
    risk_pct: float = 0.0  # of equity, lost at the stop
    created_ts_ms: int = 0
    reasons: tuple[str, ...] = ()
    reward_target: int = 2  # R:R is measured to this target (1-based): T2, or T1 when it is the only one
    size_volume: float = 0.0  # the broker's volume (lots; base units when its contract size is 1)
    risk_account: float = 0.0  # money lost at the stop, in ``currency`` (the account's)
    currency: str = ""
    size_note: str = ""  # why the plan has no size (no rate, below the broker's minimum)

    @property
    def risk_per_unit(self) -> float:
        return abs(self.entry - self.stop)


# ---------------------------------------------------------------------------- execution


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What we ask a broker to do; ``client_id`` (the approval id) makes it idempotent."""

    symbol: str  # the trader symbol; the broker adapter maps it to its own name
    direction: Direction
    volume: float  # lots for MT5, base units for the paper broker
    order_type: OrderType = OrderType.MARKET
    price: float | None = None  # limit/stop price; None for market orders
    stop_loss: float | None = None
    take_profit: float | None = None
    client_id: str = ""
    comment: str = ""
    max_deviation_points: int = 20


@dataclass(frozen=True, slots=True)
class Fill:
    ticket: int  # position ticket (or order ticket for pending orders)
    symbol: str
    direction: Direction
    volume: float
    price: float
    ts_ms: int
    client_id: str = ""
    kind: str = "open"  # open | partial_close | close | pending
    realized_pnl: float = 0.0  # account currency (closes), commission and swap included when known
    provisional: bool = False  # realized_pnl is an estimate until the broker's deals confirm it


@dataclass(frozen=True, slots=True)
class Position:
    ticket: int
    symbol: str
    direction: Direction
    volume: float
    open_price: float
    open_ts_ms: int
    stop_loss: float | None = None
    take_profit: float | None = None
    current_price: float | None = None
    unrealized_pnl: float = 0.0  # account currency
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class PendingOrder:
    ticket: int
    symbol: str
    direction: Direction
    order_type: OrderType
    volume: float
    price: float
    stop_loss: float | None = None
    take_profit: float | None = None
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class AccountInfo:
    balance: float
    equity: float
    currency: str = "USD"
    margin_free: float = 0.0
    leverage: int = 100


# ---------------------------------------------------------------------------- users


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {Role.VIEWER: 1, Role.TRADER: 2, Role.ADMIN: 3}[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True)
class User:
    telegram_id: int
    role: Role
    name: str = ""
    added_by: int | None = None
    from_config: bool = False  # admins from TELEGRAM_ADMIN_IDS cannot be revoked in chat


@dataclass(frozen=True, slots=True)
class SettingChange:
    name: str
    old_value: str | None
    new_value: str
    changed_by: int
    ts_ms: int
    extra: dict = field(default_factory=dict)
