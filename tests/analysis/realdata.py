"""Loaders for the shared real Binance recordings (parsed here, independently of core parsers)."""

from __future__ import annotations

import csv
import gzip
import json
from functools import lru_cache

import numpy as np

from core.analysis.inputs import TradeColumns
from core.models import BookSnapshot, CandleArrays
from tests.paths import BINANCE_DATA

KLINES = BINANCE_DATA / "klines"
AGGTRADES = BINANCE_DATA / "aggtrades"
DEPTH = BINANCE_DATA / "depth"

BTC_1H_2021 = "spot_BTCUSDT_1h_20201201-20210717.csv"
BTC_5M_2021 = "spot_BTCUSDT_5m_20201201-20210717.csv"
BTC_USDM_1H = "usdm_BTCUSDT_1h_20240101-20260427.csv"
BTC_1S_2024 = "derived_spot_BTCUSDT_1s_20240808T2354-20240809T0005.csv"
BTC_1M_2024 = "derived_spot_BTCUSDT_1m_20240808T2354-20240809T0005.csv"
BTC_AGG_2024 = "derived_aggtrades_BTCUSDT_20240808T2354-20240809T0005.csv"
ETH_AGG_2024 = "derived_aggtrades_ETHUSDT_20240808T2354-20240809T0005.csv"
BTC_DEPTH_2024 = "derived_depth20_100ms_BTCUSDT_20240808T2354-20240809T0005.txt.gz"
BTC_WS_AGG_2021 = "ws_aggTrade_spot_BTCUSDT_20210404.txt"


@lru_cache(maxsize=16)
def klines(name: str, symbol: str = "BTCUSDT", interval: str | None = None) -> CandleArrays:
    """A kline CSV with the header ``open_time_ms,open,high,low,close,volume[,...]``."""
    data = np.loadtxt(KLINES / name, delimiter=",", skiprows=1, usecols=range(6), ndmin=2)
    if interval is None:
        interval = next(part for part in name.split("_") if part[-1] in "smhdwM" and part[:-1].isdigit())
    return CandleArrays(symbol, interval, data[:, 0].astype(np.int64), data[:, 1].copy(), data[:, 2].copy(),
                        data[:, 3].copy(), data[:, 4].copy(), data[:, 5].copy())


@lru_cache(maxsize=4)
def derived_aggtrade_rows(name: str) -> tuple[tuple[int, float, float, int], ...]:
    """(ts_ms, price, qty, side) per row; side +1 when the buyer was the taker (not the maker)."""
    with open(AGGTRADES / name, newline="") as f:
        return tuple((int(r["trade_time_ms"]), float(r["price"]), float(r["qty"]),
                      -1 if r["is_buyer_maker"] == "true" else 1) for r in csv.DictReader(f))


@lru_cache(maxsize=4)
def ws_aggtrade_rows(name: str) -> tuple[tuple[int, float, float, int], ...]:
    """Rows of a line-recorded ``@aggTrade`` stream (``<receive_ns> <frame>``)."""
    rows = []
    with open(AGGTRADES / name) as f:
        for line in f:
            data = json.loads(line.split(" ", 1)[1])["data"]
            rows.append((int(data["T"]), float(data["p"]), float(data["q"]), -1 if data["m"] else 1))
    return tuple(rows)


def columns(rows: tuple[tuple[int, float, float, int], ...]) -> TradeColumns:
    ts, price, qty, side = zip(*rows, strict=True)
    return TradeColumns.from_arrays(ts, price, qty, side)


@lru_cache(maxsize=2)
def depth_books(name: str, symbol: str = "BTCUSDT") -> tuple[BookSnapshot, ...]:
    """depth20 frames as books, stamped with their receive time in ms."""
    books = []
    with gzip.open(DEPTH / name, "rt") as f:
        for line in f:
            receive_ns, frame = line.split(" ", 1)
            data = json.loads(frame)["data"]
            books.append(BookSnapshot(symbol, int(receive_ns) // 1_000_000, data["lastUpdateId"],
                                      tuple((float(p), float(q)) for p, q in data["bids"]),
                                      tuple((float(p), float(q)) for p, q in data["asks"])))
    return tuple(books)
