"""Micro benchmark of MarketState.apply (the ingest hot path) on real recorded BTCUSDT data.

Run: .venv/bin/python -m bench.market_state_bench  (from the repository root)
Replays the derived aggTrades and depth20 frames of 2024-08-08/09 several times (timestamps
shifted forward each pass) and prints microseconds per event by type.
"""

from __future__ import annotations

import csv
import gzip
import time

import orjson

from core.market.health import FeedHealth
from core.market.state import MarketState
from core.market.symbols import default_symbol_map
from core.models import BookSnapshot, Side, StreamKind, Trade
from core.ports import FixedClock
from tests.paths import BINANCE_DATA

PASSES = 5


def load_trades() -> list[tuple[int, float, float, bool]]:
    path = BINANCE_DATA / "aggtrades" / "derived_aggtrades_BTCUSDT_20240808T2354-20240809T0005.csv"
    with path.open() as handle:
        return [(int(r["trade_time_ms"]), float(r["price"]), float(r["qty"]), r["is_buyer_maker"] == "false")
                for r in csv.DictReader(handle)]


def load_books() -> list[tuple[int, tuple, tuple]]:
    path = BINANCE_DATA / "depth" / "derived_depth20_100ms_BTCUSDT_20240808T2354-20240809T0005.txt.gz"
    out = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            receive_ns, raw = line.split(" ", 1)
            data = orjson.loads(raw)["data"]
            bids = tuple((float(p), float(q)) for p, q in data["bids"])
            asks = tuple((float(p), float(q)) for p, q in data["asks"])
            out.append((int(receive_ns) // 1_000_000, bids, asks))
    return out


def main() -> None:
    raw_trades = load_trades()
    raw_books = load_books()
    span_ms = raw_trades[-1][0] - raw_trades[0][0] + 1000
    clock = FixedClock(raw_trades[0][0])
    state = MarketState(default_symbol_map(), clock, health=FeedHealth(clock))
    trade_time = book_time = 0.0
    trade_count = book_count = 0
    trade_id = 1
    for run in range(PASSES):
        shift = run * span_ms
        trades = []
        for ts_ms, price, qty, is_buy in raw_trades:
            trades.append(Trade("BTCUSD", trade_id, price, qty, ts_ms + shift, Side.BUY if is_buy else Side.SELL))
            trade_id += 1
        books = [BookSnapshot("BTCUSD", ts + shift, i, bids, asks) for i, (ts, bids, asks) in enumerate(raw_books)]
        apply = state.apply
        start = time.perf_counter()
        for trade in trades:
            apply(trade)
        trade_time += time.perf_counter() - start
        start = time.perf_counter()
        for book in books:
            apply(book)
        book_time += time.perf_counter() - start
        trade_count += len(trades)
        book_count += len(books)
        clock.set(trades[-1].ts_ms)
        state.advance()
    health = state.health
    assert health is not None
    start = time.perf_counter()
    for trade in trades:
        health.record_message("BTCUSD", StreamKind.TRADE, trade.ts_ms)
    health_time = time.perf_counter() - start
    start = time.perf_counter()
    reads = 1000
    for _ in range(reads):
        state.trades_since("BTCUSD", clock.now_ms() - 30_000)
    read_time = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(reads):
        state.minutes("BTCUSD")
        state.seconds("BTCUSD")
    candle_time = time.perf_counter() - start
    print(f"trades: {trade_count} events, {trade_time / trade_count * 1e6:.2f} us/event")
    print(f"books:  {book_count} events, {book_time / book_count * 1e6:.2f} us/event")
    print(f"FeedHealth.record_message: {health_time / len(trades) * 1e6:.2f} us/call")
    print(f"trades_since(30 s): {read_time / reads * 1e6:.1f} us/call")
    print(f"seconds()+minutes() copies: {candle_time / reads * 1e6:.1f} us/call")
    print(f"sizes: {state.sizes('BTCUSD')}, numpy bytes held: {state.nbytes() / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
