"""Realistic chart inputs built from the recorded Binance data (read in place, never copied)."""

from __future__ import annotations

import gzip
from itertools import islice

import numpy as np
import orjson

from core.models import BookSnapshot, CandleArrays, Direction, TradePlan, Zone, ZoneKind
from tests.paths import BINANCE_DATA

BTC_1H = "spot_BTCUSDT_1h_20260314-20260413.csv"
XRP_5M = "usdm_XRPUSDT_5m_20211115-20211121.csv"


def load_klines(file_name: str, symbol: str, interval: str) -> CandleArrays:
    """A kline CSV (``open_time_ms,open,high,low,close,volume``) as CandleArrays."""
    raw = np.loadtxt(BINANCE_DATA / "klines" / file_name, delimiter=",", skiprows=1, ndmin=2)
    return CandleArrays(symbol, interval, raw[:, 0].astype(np.int64), raw[:, 1].copy(), raw[:, 2].copy(),
                        raw[:, 3].copy(), raw[:, 4].copy(), raw[:, 5].copy())


def load_book(symbol: str = "BTCUSDT", frame_index: int = 0) -> BookSnapshot:
    """One frame of the derived depth20 recording, parsed like the feed adapter would."""
    path = BINANCE_DATA / "depth" / f"derived_depth20_100ms_{symbol}_20240808T2354-20240809T0005.txt.gz"
    with gzip.open(path, "rb") as lines:
        line = next(islice(lines, frame_index, None))
    receive_ns, message = line.split(b" ", 1)
    data = orjson.loads(message)["data"]
    return BookSnapshot(
        symbol=symbol,
        ts_ms=int(receive_ns) // 1_000_000,
        last_update_id=int(data["lastUpdateId"]),
        bids=tuple((float(price), float(qty)) for price, qty in data["bids"]),
        asks=tuple((float(price), float(qty)) for price, qty in data["asks"]),
    )


def zones_around(candles: CandleArrays, last: int = 120) -> list[Zone]:
    """Two zones at the recent extremes, one in the middle, and one far beyond each side."""
    view = candles.tail(last)
    low, high = float(view.low.min()), float(view.high.max())
    span = high - low
    return [
        Zone(low, low + 0.04 * span, ZoneKind.SUPPORT, 4, ("1h", "4h"), 82.0),
        Zone(low + 0.45 * span, low + 0.5 * span, ZoneKind.SUPPORT, 3, ("1h",), 55.0),
        Zone(high - 0.05 * span, high, ZoneKind.RESISTANCE, 5, ("1h", "4h", "1d"), 91.0),
        Zone(high + 3.0 * span, high + 3.1 * span, ZoneKind.RESISTANCE, 2, ("1d",), 60.0),
        Zone(low - 2.0 * span, low - 1.9 * span, ZoneKind.SUPPORT, 6, ("1w",), 77.0),
    ]


def long_plan(candles: CandleArrays, symbol: str = "BTCUSD") -> TradePlan:
    """A long from the last close with the stop 1.5 ATR below and targets at 1.5/3/4.5 ATR."""
    entry = float(candles.close[-1])
    atr = float(np.mean(candles.high[-14:] - candles.low[-14:]))
    return TradePlan(symbol, Direction.LONG, entry=entry, stop=entry - 1.5 * atr,
                     targets=(entry + 1.5 * atr, entry + 3.0 * atr, entry + 4.5 * atr), risk_reward=2.0,
                     confidence=70.0, setup_type="zone_rejection", timeframe=candles.interval, atr=atr)
