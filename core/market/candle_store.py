"""Per-symbol candle history in bounded rings: 1s, 1m and the higher timeframes.

``CandleStore`` keeps closed candles only; the forming bar of any interval is derived on
request (``forming``) from the finest data that covers its bucket, so analysis can look at the
current bar without it ever counting as a closed one (closed bars alone make S/R levels).
When a 1m candle closes a higher-timeframe bucket, the store appends that bucket as a closed
candle derived from its own data (if it covers the whole bucket); REST history given later
through ``set_history`` replaces derived candles. Every derived close is queued (``take_closed``)
with the number of minutes in it that had no trade: across a feed gap those are flat fillers, so
``core.market.candle_repair`` fetches Binance's own candle; one it could not fetch stays listed
(``unrepaired``) for /health.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from core.market.candles import CandleAggregator, bucket_start_ms, flat_candle, next_bucket_start_ms
from core.market.fast_models import new_candle
from core.market.ring import ColumnRing
from core.models import HTF_INTERVALS, Candle, CandleArrays

CANDLE_COLUMNS: dict[str, type] = {
    "open_time_ms": np.int64, "open": np.float64, "high": np.float64, "low": np.float64,
    "close": np.float64, "volume": np.float64, "quote_volume": np.float64, "trades": np.int64,
    "taker_buy_volume": np.float64,
}
# finer closed histories used to build a forming higher-timeframe bar, coarsest first
_FILLERS: tuple[str, ...] = ("1d", "4h", "1h")
_FILLER_MS = {"1d": 86_400_000, "4h": 14_400_000, "1h": 3_600_000}
_FIXED_STEP_MS = {"1s": 1_000, "1m": 60_000}
_CLOSED_KEPT = 256  # derived closes waiting for the repairer (older ones are dropped unrefreshed)
_UNREPAIRED_KEPT = 32


@dataclass(frozen=True, slots=True)
class ClosedCandle:
    """A higher-timeframe candle the store derived from its own minutes at its close."""

    interval: str
    open_time_ms: int
    quiet_minutes: int  # minutes in it without a trade: flat fillers across a feed gap (or a dead-quiet market)


@dataclass(frozen=True, slots=True)
class UnrepairedCandle:
    """A derived candle built across minutes without data that Binance's candle could not replace."""

    symbol: str
    interval: str
    open_time_ms: int
    quiet_minutes: int
    reason: str
CloseListener = Callable[[str, str, int], None]  # (symbol, interval, close time: the bucket's end in ms)


class CandleRing:
    """Closed candles of one interval, oldest first, in a fixed-size columnar ring.

    Appends are staged in a short Python list and moved into numpy in batches (on a read, or
    every ``flush_rows`` candles), so a candle closing every second costs microseconds.
    """

    __slots__ = ("symbol", "interval", "_ring", "_pending", "_last", "_flush_rows")

    def __init__(self, symbol: str, interval: str, capacity: int, *, flush_rows: int = 512) -> None:
        self.symbol = symbol
        self.interval = interval
        self._ring = ColumnRing(capacity, CANDLE_COLUMNS)
        self._pending: list[tuple] = []
        self._last: Candle | None = None
        self._flush_rows = max(1, min(flush_rows, capacity))

    @property
    def capacity(self) -> int:
        return self._ring.capacity

    @property
    def nbytes(self) -> int:
        return self._ring.nbytes

    def __len__(self) -> int:
        return min(self._ring.capacity, len(self._ring) + len(self._pending))

    @staticmethod
    def _row(candle: Candle) -> tuple:
        return (candle.open_time_ms, candle.open, candle.high, candle.low, candle.close, candle.volume,
                candle.quote_volume, candle.trades, candle.taker_buy_volume)

    def _flush(self) -> None:
        pending = self._pending
        if pending:
            self._ring.extend(dict(zip(CANDLE_COLUMNS, zip(*pending, strict=True), strict=True)))
            pending.clear()

    def last_open_time_ms(self) -> int | None:
        return None if self._last is None else self._last.open_time_ms

    def last_candle(self) -> Candle | None:
        return self._last

    def push(self, candle: Candle, *, replace: bool = True) -> bool:
        """Append a newer candle; a candle with the newest open time replaces it if ``replace``.

        Older candles are ignored. Returns whether the ring changed.
        """
        last = self._last
        if last is None or candle.open_time_ms > last.open_time_ms:
            self._pending.append(self._row(candle))
            self._last = candle
            if len(self._pending) >= self._flush_rows:
                self._flush()
            return True
        if candle.open_time_ms == last.open_time_ms and replace:
            if self._pending:
                self._pending[-1] = self._row(candle)
            else:
                self._ring.replace_last(self._row(candle))
            self._last = candle
            return True
        return False

    def replace_all(self, candles: list[Candle]) -> None:
        self._pending.clear()
        self._ring.clear()
        self._last = None
        if candles:
            tail = candles[-self.capacity:]
            self._ring.extend(dict(zip(CANDLE_COLUMNS, zip(*map(self._row, tail), strict=True), strict=True)))
            self._last = tail[-1]

    def candles(self, last: int | None = None) -> list[Candle]:
        self._flush()
        cols = self._ring.columns(last, copy=False)
        return [new_candle(self.symbol, self.interval, int(t), float(o), float(h), float(lo), float(c), float(v),
                       True, float(q), int(n), float(b))
                for t, o, h, lo, c, v, q, n, b in zip(*(cols[name] for name in CANDLE_COLUMNS), strict=True)]

    def arrays(self, last: int | None = None) -> CandleArrays:
        """Independent copies (safe to keep or hand to another thread)."""
        self._flush()
        cols = self._ring.columns(last, copy=True)
        return CandleArrays(self.symbol, self.interval, cols["open_time_ms"], cols["open"], cols["high"],
                            cols["low"], cols["close"], cols["volume"])

    def column(self, name: str, last: int | None = None) -> np.ndarray:
        self._flush()
        return self._ring.column(name, last).copy()

    def range(self, start_ms: int, end_ms: int) -> dict[str, np.ndarray]:
        """Views of the candles with ``start_ms <= open_time_ms < end_ms`` (valid until a write)."""
        self._flush()
        cols = self._ring.columns(copy=False)
        times = cols["open_time_ms"]
        first, stop = np.searchsorted(times, (start_ms, end_ms), side="left")
        return {name: values[first:stop] for name, values in cols.items()}


class CandleStore:
    """1s, 1m and higher-timeframe candles of one symbol, all bounded."""

    def __init__(self, symbol: str, *, seconds_capacity: int = 7200, minutes_capacity: int = 2880,
                 history_capacity: int = 1000, htf_intervals: Iterable[str] = HTF_INTERVALS,
                 on_close: CloseListener | None = None) -> None:
        if seconds_capacity < 3600:
            raise ValueError("keep at least one hour of 1s candles (seconds_capacity >= 3600)")
        self.symbol = symbol
        self._rings: dict[str, CandleRing] = {
            "1s": CandleRing(symbol, "1s", seconds_capacity),
            "1m": CandleRing(symbol, "1m", minutes_capacity),
        }
        self.htf_intervals = tuple(htf_intervals)
        for interval in self.htf_intervals:
            self._rings[interval] = CandleRing(symbol, interval, history_capacity)
        self._minute_builder = CandleAggregator(symbol, "1m", max_fill=minutes_capacity)
        self._forming: dict[str, Candle] = {}  # latest unclosed kline per interval from a feed
        self._closed: deque[ClosedCandle] = deque(maxlen=_CLOSED_KEPT)
        self._unrepaired: OrderedDict[tuple[str, int], UnrepairedCandle] = OrderedDict()
        self._on_close = on_close

    # ------------------------------------------------------------------ writes

    def on_closed(self, candle: Candle) -> None:
        """A closed candle of any kept interval (feed kline, or a 1s candle built from trades)."""
        ring = self._rings.get(candle.interval)
        if ring is None:
            return
        if candle.interval == "1s":
            for second in self._with_flat_fill(ring, candle):
                if ring.push(second, replace=False):
                    self._on_minute_candles(self._minute_builder.add(second), derived=True)
            return
        if candle.interval == "1m":
            self._on_minute_candles([candle], derived=False)
            return
        last = ring.last_open_time_ms()
        if ring.push(candle) and self._on_close is not None and (last is None or candle.open_time_ms > last):
            self._on_close(self.symbol, candle.interval, candle.close_time_ms + 1)

    def on_forming(self, candle: Candle) -> None:
        """An unclosed kline from a feed (shown by ``forming``, never stored as closed)."""
        self._forming[candle.interval] = candle

    def close_until(self, ts_ms: int) -> None:
        """Close the forming minute if it ended by ``ts_ms`` (the 1s source already closed)."""
        self._on_minute_candles(self._minute_builder.close_until(ts_ms), derived=True)

    def _with_flat_fill(self, ring: CandleRing, candle: Candle) -> list[Candle]:
        last = ring.last_candle()
        step = _FIXED_STEP_MS[candle.interval]
        if last is None or candle.open_time_ms <= last.open_time_ms + step:
            return [candle]
        first = max(last.open_time_ms + step, candle.open_time_ms - ring.capacity * step)
        fills = [flat_candle(self.symbol, candle.interval, t, last.close)
                 for t in range(first, candle.open_time_ms, step)]
        return [*fills, candle]

    def _on_minute_candles(self, minutes: list[Candle] | None, *, derived: bool) -> None:
        if not minutes:
            return
        ring = self._rings["1m"]
        for minute in minutes:
            if minute.interval != "1m":
                continue
            for filled in self._with_flat_fill(ring, minute):
                if ring.push(filled, replace=not derived):
                    self._roll_up(filled.open_time_ms + 60_000)

    def _roll_up(self, boundary_ms: int) -> None:
        """Append derived closed bars for every higher timeframe whose bucket ends at ``boundary_ms``."""
        for interval in self.htf_intervals:
            if bucket_start_ms(boundary_ms, interval) != boundary_ms:
                continue
            start = bucket_start_ms(boundary_ms - 1, interval)
            bar = self._derive(interval, start, boundary_ms, None, closed=True)
            if bar is not None and self._rings[interval].push(bar, replace=False):
                self._closed.append(ClosedCandle(interval, start, self._quiet_minutes(start, boundary_ms)))
            if self._on_close is not None:  # the close happened, whether or not the store could build the bar
                self._on_close(self.symbol, interval, boundary_ms)

    def _quiet_minutes(self, start: int, end: int) -> int:
        """Minutes in ``[start, end)`` (as far as the 1m ring reaches) without any volume."""
        volume = self._rings["1m"].range(start, end)["volume"]
        return int((volume <= 0.0).sum())

    # ------------------------------------------------------------------ repair bookkeeping

    def take_closed(self) -> list[ClosedCandle]:
        """The derived closes since the last call, oldest first (for ``CandleRepairer``)."""
        closed = list(self._closed)
        self._closed.clear()
        return closed

    def mark_unrepaired(self, candle: ClosedCandle, reason: str) -> None:
        key = (candle.interval, candle.open_time_ms)
        self._unrepaired[key] = UnrepairedCandle(self.symbol, candle.interval, candle.open_time_ms,
                                                 candle.quiet_minutes, reason)
        while len(self._unrepaired) > _UNREPAIRED_KEPT:
            self._unrepaired.popitem(last=False)

    def forget_unrepaired(self, interval: str, open_time_ms: int) -> None:
        self._unrepaired.pop((interval, open_time_ms), None)

    def unrepaired(self) -> list[UnrepairedCandle]:
        return list(self._unrepaired.values())

    def set_history(self, interval: str, candles: Iterable[Candle]) -> None:
        """Closed candles from REST; they win over what the store has for the same open times."""
        ring = self._rings.get(interval)
        if ring is None:
            raise ValueError(f"no {interval} history kept; kept: {', '.join(self._rings)}")
        merged = {c.open_time_ms: c for c in ring.candles()}
        merged.update({c.open_time_ms: c for c in candles if c.closed})
        ring.replace_all([merged[t] for t in sorted(merged)])

    # ------------------------------------------------------------------ reads

    def ring(self, interval: str) -> CandleRing:
        return self._rings[interval]

    def intervals(self) -> tuple[str, ...]:
        return tuple(self._rings)

    def arrays(self, interval: str, last: int | None = None) -> CandleArrays:
        return self._rings[interval].arrays(last)

    def column(self, interval: str, name: str, last: int | None = None) -> np.ndarray:
        """An extra column (``quote_volume``, ``trades``, ``taker_buy_volume``) as a copy."""
        return self._rings[interval].column(name, last)

    def sizes(self) -> dict[str, int]:
        return {interval: len(ring) for interval, ring in self._rings.items()}

    def nbytes(self) -> int:
        return sum(ring.nbytes for ring in self._rings.values())

    def forming(self, interval: str, now_ms: int, *, forming_second: Candle | None = None) -> Candle | None:
        """The unclosed bar of ``interval`` containing ``now_ms`` (``closed=False``), or None when
        the data the store holds does not reach back to the start of that bar."""
        second = forming_second or self._forming.get("1s")
        if interval == "1s":
            return second if second is not None and second.open_time_ms <= now_ms else None
        start = bucket_start_ms(now_ms, interval)
        return self._derive(interval, start, next_bucket_start_ms(start, interval), second, closed=False)

    def _derive(self, interval: str, start: int, end: int, second: Candle | None, *,
                closed: bool) -> Candle | None:
        """Merge the finest data covering ``[start, end)``: closed histories (coarsest first), closed
        minutes, then (forming bars only) the forming minute and second. None if the data does not
        start at ``start``, or (closed bars) does not reach ``end``."""
        parts: list[tuple] = []
        cursor = start
        for name in _FILLERS:
            if name in self._rings and _FILLER_MS[name] < end - start:
                cursor = self._take(self._rings[name], cursor, end, _FILLER_MS[name], parts)
        cursor = self._take(self._rings["1m"], cursor, end, 60_000, parts)
        if closed:
            return self._merged(interval, start, parts, closed=True) if parts and cursor >= end else None
        for candle in self._live_minute_parts(second):
            if cursor < end and bucket_start_ms(candle.open_time_ms, "1m") == cursor:
                parts.append(CandleRing._row(candle)[1:])
        return self._merged(interval, start, parts, closed=False) if parts else None

    def _live_minute_parts(self, second: Candle | None) -> list[Candle]:
        """The forming minute as pieces: closed seconds merged so far, then the forming second."""
        minute = None if self._minute_builder.forming_is_partial else self._minute_builder.forming()
        if minute is None and "1m" in self._forming:
            return [self._forming["1m"]]
        pieces = [minute] if minute is not None else []
        if second is not None and (minute is None or second.open_time_ms >= minute.open_time_ms):
            pieces.append(second)
        return pieces

    def _merged(self, interval: str, start: int, parts: list[tuple], *, closed: bool) -> Candle:
        """Parts are (open, high, low, close, volume, quote, trades, taker_buy); flat parts (no
        volume) set open/high/low only when nothing traded (see ``core.market.candles``)."""
        priced = [p for p in parts if p[4] > 0.0] or parts
        return new_candle(self.symbol, interval, start, priced[0][0], max(p[1] for p in priced),
                      min(p[2] for p in priced), parts[-1][3], sum(p[4] for p in parts), closed,
                      sum(p[5] for p in parts), int(sum(p[6] for p in parts)), sum(p[7] for p in parts))

    @staticmethod
    def _take(ring: CandleRing, cursor: int, end: int, step: int, parts: list) -> int:
        """Append the merged slice of ``ring`` starting exactly at ``cursor``; returns the new cursor."""
        if cursor >= end or not len(ring):
            return cursor
        cols = ring.range(cursor, end)
        times = cols["open_time_ms"]
        if not times.shape[0] or int(times[0]) != cursor:
            return cursor
        volume = cols["volume"]
        traded = volume > 0.0
        if traded.any():
            first = int(traded.argmax())
            opened, high, low = cols["open"][first], cols["high"][traded].max(), cols["low"][traded].min()
        else:
            opened, high, low = cols["open"][0], cols["high"].max(), cols["low"].min()
        parts.append((float(opened), float(high), float(low), float(cols["close"][-1]), float(volume.sum()),
                      float(cols["quote_volume"].sum()), int(cols["trades"].sum()),
                      float(cols["taker_buy_volume"].sum())))
        return int(times[-1]) + step
