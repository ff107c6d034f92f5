"""Candle time buckets as Binance aligns them, and resampling of lower-timeframe candles.

Binance buckets: minutes/hours/days from the epoch; ``3d`` buckets start on days where
``epoch_day % 3 == 1``; ``1w`` starts Monday 00:00 UTC; ``1M`` on the 1st of each month. The
nominal ``interval_ms("1M")`` (30 days) is wrong for real months, so close times come from here.
"""

from __future__ import annotations

import numpy as np

from core.models import CandleArrays, close_end_ms, interval_ms

_DAY_MS = 86_400_000
_THURSDAY_OFFSET_MS = 4 * _DAY_MS  # the epoch (1970-01-01) was a Thursday; weeks start Monday


def bucket_open_ms(ts_ms: np.ndarray, interval: str) -> np.ndarray:
    """Open time of the ``interval`` bucket that contains each timestamp."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    if interval.endswith("M"):
        months = ts.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
        step = int(interval[:-1] or 1)
        return ((months // step) * step).astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
    if interval == "1w":
        return (ts - _THURSDAY_OFFSET_MS) // (7 * _DAY_MS) * (7 * _DAY_MS) + _THURSDAY_OFFSET_MS
    if interval == "3d":
        return (ts - _DAY_MS) // (3 * _DAY_MS) * (3 * _DAY_MS) + _DAY_MS
    length = interval_ms(interval)
    return ts // length * length


def closed_count(candles: CandleArrays, ts_ms: int) -> int:
    """How many leading candles had closed by ``ts_ms`` (their end is at or before it)."""
    n = len(candles)
    if n == 0:
        return 0
    ends = close_end_ms(candles.open_time_ms[-1:], candles.interval)
    if ends[0] <= ts_ms:
        return n  # the common case: everything is closed
    return int(np.searchsorted(close_end_ms(candles.open_time_ms, candles.interval), ts_ms, side="right"))


def closed_until(candles: CandleArrays, ts_ms: int) -> CandleArrays:
    """Only candles closed by ``ts_ms`` (no look-ahead); exact for ``1M`` unlike ``CandleArrays.until``."""
    end = closed_count(candles, ts_ms)
    if end == len(candles):
        return candles
    return CandleArrays(candles.symbol, candles.interval, candles.open_time_ms[:end], candles.open[:end],
                        candles.high[:end], candles.low[:end], candles.close[:end], candles.volume[:end])


def resample(candles: CandleArrays, interval: str) -> CandleArrays:
    """Aggregate lower-timeframe candles into ``interval`` candles.

    Only complete buckets are returned: a leading bucket that starts before the first source candle
    and a trailing one that ends after the last are dropped. Missing source candles (exchange
    gaps) are simply absent from their bucket.
    """
    if len(candles) == 0:
        return candles
    buckets = bucket_open_ms(candles.open_time_ms, interval)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], len(buckets)] - 1
    opens = buckets[starts]
    source_end = int(close_end_ms(candles.open_time_ms[-1:], candles.interval)[0])
    keep = (close_end_ms(opens, interval) <= source_end) & (opens >= candles.open_time_ms[0])
    starts, ends, opens = starts[keep], ends[keep], opens[keep]
    if starts.size == 0:
        return CandleArrays(candles.symbol, interval, opens, *(np.empty(0) for _ in range(5)))
    stop = int(ends[-1]) + 1  # kept buckets are contiguous: drop the trailing partial one's rows
    return CandleArrays(
        symbol=candles.symbol,
        interval=interval,
        open_time_ms=opens,
        open=candles.open[starts],
        high=np.maximum.reduceat(candles.high[:stop], starts),
        low=np.minimum.reduceat(candles.low[:stop], starts),
        close=candles.close[ends],
        volume=np.add.reduceat(candles.volume[:stop], starts),
    )
