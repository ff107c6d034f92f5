"""Fast constructors for the frozen market models (``Trade``, ``Candle``, ``BookSnapshot``).

A frozen dataclass sets each field through ``object.__setattr__``, which costs about 1 us for a
12-field ``Candle``: as much as decoding the frame it came from. These build equal objects
several times faster: an instance of a plain *shell* class with the same slots is filled with
ordinary attribute stores, then its class is switched to the model. CPython allows that switch
only between classes of identical layout and checks it; ``_shell_of`` also fails loudly at
import if ``core.models`` changes shape. Only the frozen guard is bypassed while building, the
objects are frozen afterwards, and the tests check they equal the normal constructors.

Hot loops may inline the same steps (``object.__new__(TRADE_SHELL)``, six attribute stores,
``__class__ = Trade``), as ``core.feeds.binance_decode`` does.
"""

from __future__ import annotations

from dataclasses import fields

from core.models import BookSnapshot, Candle, Side, Trade


def _shell_of(cls: type, names: tuple[str, ...]) -> type:
    actual = tuple(f.name for f in fields(cls))
    if actual != names or tuple(getattr(cls, "__slots__", ())) != names:
        raise TypeError(f"core.models.{cls.__name__} fields changed to {actual}; update core.market.fast_models")
    shell = type(f"{cls.__name__}Shell", (), {"__slots__": names, "__module__": __name__})
    probe = object.__new__(shell)
    probe.__class__ = cls  # raises TypeError if the layouts differ
    return shell


TRADE_SHELL = _shell_of(Trade, ("symbol", "trade_id", "price", "qty", "ts_ms", "side"))
BOOK_SHELL = _shell_of(BookSnapshot, ("symbol", "ts_ms", "last_update_id", "bids", "asks"))
CANDLE_SHELL = _shell_of(Candle, ("symbol", "interval", "open_time_ms", "open", "high", "low", "close", "volume",
                                  "closed", "quote_volume", "trades", "taker_buy_volume"))
_new = object.__new__


def new_trade(symbol: str, trade_id: int, price: float, qty: float, ts_ms: int, side: Side) -> Trade:
    """``Trade(...)``, faster."""
    trade = _new(TRADE_SHELL)
    trade.symbol = symbol
    trade.trade_id = trade_id
    trade.price = price
    trade.qty = qty
    trade.ts_ms = ts_ms
    trade.side = side
    trade.__class__ = Trade
    return trade


def new_book(symbol: str, ts_ms: int, last_update_id: int, bids: tuple[tuple[float, float], ...],
             asks: tuple[tuple[float, float], ...]) -> BookSnapshot:
    """``BookSnapshot(...)``, faster."""
    book = _new(BOOK_SHELL)
    book.symbol = symbol
    book.ts_ms = ts_ms
    book.last_update_id = last_update_id
    book.bids = bids
    book.asks = asks
    book.__class__ = BookSnapshot
    return book


def new_candle(symbol: str, interval: str, open_time_ms: int, open_: float, high: float, low: float,
               close: float, volume: float, closed: bool = True, quote_volume: float = 0.0, trades: int = 0,
               taker_buy_volume: float = 0.0) -> Candle:
    """``Candle(...)`` (same positional order and defaults), faster."""
    candle = _new(CANDLE_SHELL)
    candle.symbol = symbol
    candle.interval = interval
    candle.open_time_ms = open_time_ms
    candle.open = open_
    candle.high = high
    candle.low = low
    candle.close = close
    candle.volume = volume
    candle.closed = closed
    candle.quote_volume = quote_volume
    candle.trades = trades
    candle.taker_buy_volume = taker_buy_volume
    candle.__class__ = Candle
    return candle
