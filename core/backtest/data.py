"""Candles for a backtest: kline CSV files and the higher timeframes built from the base series.

A kline CSV has a header and the columns ``open_time_ms,open,high,low,close,volume`` (more columns
are ignored), oldest first, as in ../shared/data/binance/klines. The interval is taken from the
file name (``..._5m_...``) or given. Higher timeframes missing from ``--htf`` files are resampled
from the base series (``core.analysis.resample``: only complete buckets). Whatever the source, the
analysis reads only the candles that had closed by each decision.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core.analysis.resample import resample
from core.models import HTF_INTERVALS, CandleArrays, interval_ms

_INTERVAL = re.compile(r"(?:^|[_\-.])(\d+[smhdwM])(?:[_\-.]|$)")


class DataError(ValueError):
    """A candle file that cannot be used; the message says why."""


def interval_from_name(path: Path) -> str:
    found = _INTERVAL.findall(path.name)
    if not found:
        raise DataError(f"{path.name}: no interval (like _5m_) in the file name; pass it explicitly")
    return found[0]


def load_klines(path: Path, symbol: str, interval: str | None = None) -> CandleArrays:
    """Candles of a kline CSV, sorted by open time with duplicates dropped."""
    interval = interval or interval_from_name(path)
    try:
        interval_ms(interval)
        with open(path, "rb") as f:
            header = f.readline().decode().strip().split(",")
            data = np.loadtxt(f, delimiter=",", usecols=range(6), ndmin=2, dtype=np.float64)
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: {e}") from None
    if header[:1] != ["open_time_ms"] or data.shape[0] == 0:
        raise DataError(f"{path}: expected a header open_time_ms,open,high,low,close,volume and candles")
    opens = data[:, 0].astype(np.int64)
    order = np.unique(opens, return_index=True)[1]
    data = data[order]
    return CandleArrays(symbol, interval, data[:, 0].astype(np.int64), *(np.ascontiguousarray(data[:, k])
                                                                          for k in range(1, 6)))


def window(candles: CandleArrays, start: int, stop: int) -> CandleArrays:
    return CandleArrays(candles.symbol, candles.interval, candles.open_time_ms[start:stop], candles.open[start:stop],
                        candles.high[start:stop], candles.low[start:stop], candles.close[start:stop],
                        candles.volume[start:stop])


def between(candles: CandleArrays, from_ts_ms: int | None, to_ts_ms: int | None) -> CandleArrays:
    """Candles opening at or after ``from_ts_ms`` and before ``to_ts_ms`` (either may be None)."""
    start = 0 if from_ts_ms is None else int(np.searchsorted(candles.open_time_ms, from_ts_ms, side="left"))
    stop = len(candles) if to_ts_ms is None else int(np.searchsorted(candles.open_time_ms, to_ts_ms, side="left"))
    return window(candles, start, stop)


def build_timeframes(base: CandleArrays, given: dict[str, CandleArrays] | None = None,
                     intervals: tuple[str, ...] = HTF_INTERVALS) -> dict[str, CandleArrays]:
    """Each of ``intervals`` from ``given`` when supplied, else resampled from ``base`` (finer than it only)."""
    given = given or {}
    out: dict[str, CandleArrays] = {}
    for interval in intervals:
        if interval in given:
            out[interval] = given[interval]
        elif interval_ms(interval) >= interval_ms(base.interval):
            built = base if interval == base.interval else resample(base, interval)
            if len(built):
                out[interval] = built
    return out
