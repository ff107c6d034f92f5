"""Candle aggregation: trades -> n-second candles, small candles -> larger buckets.

Rules every builder here follows (the tests hold them to it):

* **Buckets** are aligned like Binance's: fixed intervals (``1s``, ``1m``, ``4h``, ``1d``) on
  multiples of their length since the epoch; ``3d`` on days where ``day_index % 3 == 1``; ``1w``
  on Mondays 00:00 UTC; ``1M`` on the 1st of each month 00:00 UTC.
* **Forming vs closed**: a bucket is *forming* until a later bucket starts (or its last
  sub-candle arrives, or ``close_until`` passes its end); then it is emitted with
  ``closed=True``. ``forming()`` shows the current bucket with ``closed=False``.
* **Empty buckets** are emitted as *flat* candles carrying the previous close
  (open = high = low = close = previous close, volume 0, trades 0), so a series has no holes,
  as in the derived Binance 1s files. At most ``max_fill`` flat candles are emitted for one gap.
  When merging, flat parts never set open/high/low of a bucket that has a traded part (a minute
  whose first seconds were quiet opens at its first trade, as Binance's 1m kline does).
* **The first bucket after start is partial** (we joined mid-bucket), so it is never emitted as
  closed; the trade builder drops its first bucket unless ``skip_first=False``, the candle
  aggregator drops it when its first sub-candle does not start at the bucket start.
* **Late data** (older than the forming bucket) is not merged; it is counted in ``late``.
* ``trades`` counts the trades the builder saw: built from aggTrades it counts aggregated
  trades, so it is lower than a Binance kline's raw trade count (volumes are equal).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from core.market.fast_models import new_candle
from core.models import Candle, Side, Trade, interval_ms

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
_MONDAY_OFFSET_MS = 4 * DAY_MS  # 1970-01-05 was the first Monday after the epoch
_THREE_DAY_OFFSET_MS = DAY_MS  # Binance 3d buckets start on days with day_index % 3 == 1


# ---------------------------------------------------------------------------- bucket maths

_LENGTH_MS: dict[str, int] = {}


def _length_ms(interval: str) -> int:
    """``interval_ms``, memoised (it parses the string; bucket maths runs for every candle)."""
    length = _LENGTH_MS.get(interval)
    if length is None:
        length = _LENGTH_MS[interval] = interval_ms(interval)
    return length


def bucket_start_ms(ts_ms: int, interval: str) -> int:
    """Open time of the ``interval`` bucket containing ``ts_ms``."""
    if interval.endswith("M"):
        months = int(interval[:-1] or 1)
        moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
        index = (moment.year * 12 + moment.month - 1) // months * months
        return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp() * 1000)
    length = _length_ms(interval)
    if interval.endswith("w"):
        return ts_ms - (ts_ms - _MONDAY_OFFSET_MS) % length
    if interval == "3d":
        return ts_ms - (ts_ms - _THREE_DAY_OFFSET_MS) % length
    return ts_ms - ts_ms % length


def next_bucket_start_ms(open_ms: int, interval: str) -> int:
    """Open time of the bucket after the one opening at ``open_ms``."""
    if interval.endswith("M"):
        months = int(interval[:-1] or 1)
        moment = datetime.fromtimestamp(open_ms / 1000, UTC)
        index = moment.year * 12 + moment.month - 1 + months
        return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp() * 1000)
    return open_ms + _length_ms(interval)


def flat_candle(symbol: str, interval: str, open_ms: int, price: float) -> Candle:
    """A bucket without trades: every price at the previous close, no volume."""
    return new_candle(symbol, interval, open_ms, price, price, price, price, 0.0, True)


def merge_candles(symbol: str, interval: str, open_ms: int, parts: Sequence[Candle], *,
                  closed: bool) -> Candle:
    """One candle from consecutive smaller ones (oldest first). Flat (zero-volume) parts count
    for open/high/low only when no part traded."""
    if not parts:
        raise ValueError("merge_candles needs at least one candle")
    priced = [c for c in parts if c.volume > 0.0] or list(parts)
    return new_candle(
        symbol, interval, open_ms, priced[0].open, max(c.high for c in priced), min(c.low for c in priced),
        parts[-1].close, sum(c.volume for c in parts), closed, sum(c.quote_volume for c in parts),
        sum(c.trades for c in parts), sum(c.taker_buy_volume for c in parts),
    )


# ---------------------------------------------------------------------------- trades -> candles


class TradeCandleBuilder:
    """Streams trades into fixed-length candles (``1s`` by default) with flat gap filling.

    ``add`` is on the ingest hot path: it keeps the forming bucket in plain floats and returns
    ``None`` unless a bucket closed, in which case it returns the closed candles, oldest first.
    """

    __slots__ = ("symbol", "interval", "max_fill", "late", "_step", "_open_ms", "_empty", "_skip",
                 "_open", "_high", "_low", "_close", "_volume", "_quote", "_count", "_taker_buy",
                 "_live_open_ms", "_live_end_ms", "_floor_ms")

    def __init__(self, symbol: str, interval: str = "1s", *, max_fill: int = 7200,
                 skip_first: bool = True) -> None:
        if interval.endswith(("M", "w")) or interval == "3d":
            raise ValueError("trade builders take fixed-length intervals (s, m, h, d)")
        self.symbol = symbol
        self.interval = interval
        self.max_fill = max_fill
        self.late = 0  # trades older than the forming bucket (not merged)
        self._step = interval_ms(interval)
        self._open_ms: int | None = None
        self._empty = True
        self._skip = skip_first
        self._open = self._high = self._low = self._close = 0.0
        self._volume = self._quote = self._taker_buy = 0.0
        self._count = 0
        # [open, end) of the forming bucket while it has a trade, else an empty range: the one
        # comparison the hot path needs
        self._live_open_ms = self._live_end_ms = 0
        self._floor_ms = -(1 << 62)  # open time of the forming bucket: older trades are late

    def add(self, ts_ms: int, price: float, qty: float, is_buy: bool) -> list[Candle] | None:
        if self._live_open_ms <= ts_ms < self._live_end_ms:  # hot path: same bucket, already traded
            if price > self._high:
                self._high = price
            elif price < self._low:
                self._low = price
            self._close = price
            self._volume += qty
            self._quote += price * qty
            self._count += 1
            if is_buy:
                self._taker_buy += qty
            return None
        if ts_ms < self._floor_ms:  # older than the forming bucket
            self.late += 1
            return None
        start = ts_ms - ts_ms % self._step
        if start != self._open_ms:
            closed = self._roll_to(start) if self._open_ms is not None else None
            self._open_ms = self._floor_ms = start
            self._begin(price, qty, is_buy)
            return closed
        self._begin(price, qty, is_buy)  # the bucket's first trade (it was empty)
        return None

    def add_trade(self, trade: Trade) -> list[Candle] | None:
        return self.add(trade.ts_ms, trade.price, trade.qty, trade.side is Side.BUY)

    def _begin(self, price: float, qty: float, is_buy: bool) -> None:
        self._empty = False
        self._live_open_ms = self._open_ms or 0
        self._live_end_ms = self._live_open_ms + self._step
        self._open = self._high = self._low = self._close = price
        self._volume = qty
        self._quote = price * qty
        self._count = 1
        self._taker_buy = qty if is_buy else 0.0

    def _roll_to(self, start: int) -> list[Candle]:
        """Close the forming bucket and flat-fill every empty bucket before ``start``."""
        out: list[Candle] = []
        assert self._open_ms is not None
        if self._skip:
            self._skip = False
        elif not self._empty:
            out.append(self._candle(closed=True))
        elif self._count:  # an empty bucket after a previous one: flat at the last close
            out.append(flat_candle(self.symbol, self.interval, self._open_ms, self._close))
        next_open = self._open_ms + self._step
        missing = (start - next_open) // self._step
        if missing > 0 and self._count:
            first = max(next_open, start - self.max_fill * self._step)
            out.extend(flat_candle(self.symbol, self.interval, t, self._close)
                       for t in range(first, start, self._step))
        self._empty = True
        self._live_open_ms = self._live_end_ms = 0
        return out

    def close_until(self, ts_ms: int) -> list[Candle]:
        """Close every bucket that ended at or before ``ts_ms`` (a timer calls this)."""
        if self._open_ms is None or self._open_ms + self._step > ts_ms:
            return []
        start = ts_ms - ts_ms % self._step
        closed = self._roll_to(start)
        self._open_ms = self._floor_ms = start
        return closed

    def _candle(self, *, closed: bool) -> Candle:
        return new_candle(self.symbol, self.interval, self._open_ms or 0, self._open, self._high, self._low,
                      self._close, self._volume, closed, self._quote, self._count, self._taker_buy)

    def forming(self) -> Candle | None:
        """The current bucket (``closed=False``), or None if it has no trade yet."""
        return None if self._empty or self._open_ms is None else self._candle(closed=False)

    @property
    def last_price(self) -> float | None:
        return None if self._open_ms is None or not self._count else self._close


# ---------------------------------------------------------------------------- candles -> candles


class CandleAggregator:
    """Merges closed smaller candles (e.g. 1s) into ``interval`` buckets (e.g. 1m)."""

    __slots__ = ("symbol", "interval", "max_fill", "late", "_open_ms", "_end_ms", "_parts_open",
                 "_partial", "_open", "_high", "_low", "_close", "_volume", "_quote", "_count",
                 "_taker_buy", "_last_close", "_traded")

    def __init__(self, symbol: str, interval: str, *, max_fill: int = 2880) -> None:
        self.symbol = symbol
        self.interval = interval
        self.max_fill = max_fill
        self.late = 0
        self._open_ms: int | None = None
        self._end_ms = 0
        self._parts_open: int | None = None  # open time of the first part in the bucket
        self._partial = False
        self._last_close: float | None = None
        self._traded = False
        self._open = self._high = self._low = self._close = 0.0
        self._volume = self._quote = self._taker_buy = 0.0
        self._count = 0

    def add(self, candle: Candle) -> list[Candle] | None:
        """Merge one closed candle; returns the buckets that closed (oldest first) or None."""
        open_ms = self._open_ms
        out: list[Candle] | None = None
        if open_ms is None or not open_ms <= candle.open_time_ms < self._end_ms:  # not the current bucket
            start = bucket_start_ms(candle.open_time_ms, self.interval)
            if self._open_ms is not None and start < self._open_ms:
                self.late += 1
                return None
            first_bucket = self._open_ms is None
            out = self._roll_to(start) if not first_bucket else None
            self._open_ms = start
            self._end_ms = next_bucket_start_ms(start, self.interval)
            self._partial = first_bucket and candle.open_time_ms != start
        self._merge(candle)
        if candle.open_time_ms + _length_ms(candle.interval) >= self._end_ms:  # the bucket's last part: close it
            closed = self._close_current()
            self._open_ms = self._end_ms
            self._end_ms = next_bucket_start_ms(self._open_ms, self.interval)
            if closed is not None:
                out = (out or []) + [closed]
        return out

    def _merge(self, candle: Candle) -> None:
        """Fold one part in. Flat (zero-volume) parts only carry the price: once the bucket has a
        traded part, its open/high/low come from traded parts alone, as Binance's would."""
        traded = candle.volume > 0.0
        if self._parts_open is None or (traded and not self._traded):
            if self._parts_open is None:
                self._parts_open = candle.open_time_ms
                self._volume = self._quote = self._taker_buy = 0.0
                self._count = 0
            self._open, self._high, self._low = candle.open, candle.high, candle.low
            self._traded = traded
        elif traded or not self._traded:
            if candle.high > self._high:
                self._high = candle.high
            if candle.low < self._low:
                self._low = candle.low
        self._close = candle.close
        self._volume += candle.volume
        self._quote += candle.quote_volume
        self._count += candle.trades
        self._taker_buy += candle.taker_buy_volume

    def _close_current(self) -> Candle | None:
        """Emit the current bucket (None when it was partial)."""
        candle = None if self._partial else self._candle(closed=True)
        self._last_close = self._close
        self._parts_open = None
        self._partial = False
        return candle

    def _roll_to(self, start: int) -> list[Candle]:
        """Close the current bucket and flat-fill the empty buckets before ``start``."""
        out: list[Candle] = []
        cursor = self._open_ms
        assert cursor is not None
        if self._parts_open is not None:
            closed = self._close_current()
            if closed is not None:
                out.append(closed)
            cursor = self._end_ms
        if self._last_close is None or cursor >= start:
            return out
        if not self.interval.endswith(("M", "w")) and self.interval != "3d":
            step = interval_ms(self.interval)
            cursor = max(cursor, start - self.max_fill * step)
        fills: deque[Candle] = deque(maxlen=self.max_fill)
        while cursor < start:
            fills.append(flat_candle(self.symbol, self.interval, cursor, self._last_close))
            cursor = next_bucket_start_ms(cursor, self.interval)
        out.extend(fills)
        return out

    def close_until(self, ts_ms: int) -> list[Candle]:
        """Close the current bucket (and flat-fill empty ones) if it ended by ``ts_ms``."""
        if self._open_ms is None or self._end_ms > ts_ms:
            return []
        start = bucket_start_ms(ts_ms, self.interval)
        out = self._roll_to(start)
        self._open_ms = start
        self._end_ms = next_bucket_start_ms(start, self.interval)
        return out

    def _candle(self, *, closed: bool) -> Candle:
        return new_candle(self.symbol, self.interval, self._open_ms or 0, self._open, self._high, self._low,
                      self._close, self._volume, closed, self._quote, self._count, self._taker_buy)

    def forming(self) -> Candle | None:
        """The bucket being filled (``closed=False``), or None if nothing merged into it yet."""
        if self._open_ms is None or self._parts_open is None:
            return None
        return self._candle(closed=False)

    @property
    def forming_is_partial(self) -> bool:
        return self._partial


# ---------------------------------------------------------------------------- batch helpers


def candles_from_trades(symbol: str, trades: Iterable[Trade], interval: str = "1s", *,
                        skip_first: bool = False) -> list[Candle]:
    """Every bucket the trades span, flat-filled; the last one is forming (``closed=False``)."""
    builder = TradeCandleBuilder(symbol, interval, skip_first=skip_first, max_fill=1 << 30)
    out: list[Candle] = []
    for trade in trades:
        closed = builder.add(trade.ts_ms, trade.price, trade.qty, trade.side is Side.BUY)
        if closed:
            out.extend(closed)
    forming = builder.forming()
    if forming is not None:
        out.append(forming)
    return out


def aggregate_candles(symbol: str, candles: Iterable[Candle], interval: str) -> list[Candle]:
    """Closed candles merged into ``interval`` buckets; an incomplete last bucket is forming."""
    aggregator = CandleAggregator(symbol, interval, max_fill=1 << 30)
    out: list[Candle] = []
    for candle in candles:
        closed = aggregator.add(candle)
        if closed:
            out.extend(closed)
    forming = aggregator.forming()
    if forming is not None and not aggregator.forming_is_partial:
        out.append(forming)
    return out
