"""Pure analysis timings on real recordings (no bot, no I/O in the timed part).

Run: .venv/bin/python bench/analysis_pure.py
Goals: a full analyse() (HTF zones included) well under 20 ms p95; an indicator updater step in
microseconds.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.analysis.engine import analyse  # noqa: E402
from core.analysis.indicators import AtrUpdater, EmaUpdater, MacdUpdater, ObvUpdater, RsiUpdater  # noqa: E402
from core.analysis.inputs import AnalysisInput  # noqa: E402
from core.analysis.levels import ZoneMemo, zone_candidates  # noqa: E402
from core.analysis.resample import resample  # noqa: E402
from core.models import DataSource  # noqa: E402
from tests.analysis import realdata  # noqa: E402


def percentiles(samples_s: list[float]) -> str:
    ms = sorted(x * 1e3 for x in samples_s)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"p50 {statistics.median(ms):.2f} ms  p95 {p95:.2f} ms  max {ms[-1]:.2f} ms  (n={len(ms)})"


def bench_updaters() -> None:
    candles = realdata.klines(realdata.BTC_USDM_1H)
    close, high, low, volume = (x.tolist() for x in (candles.close, candles.high, candles.low, candles.volume))
    cases = {
        "EMA(20)": (EmaUpdater(20), lambda u, i: u.update(close[i])),
        "RSI(14)": (RsiUpdater(14), lambda u, i: u.update(close[i])),
        "ATR(14)": (AtrUpdater(14), lambda u, i: u.update(high[i], low[i], close[i])),
        "MACD(12,26,9)": (MacdUpdater(), lambda u, i: u.update(close[i])),
        "OBV": (ObvUpdater(), lambda u, i: u.update(close[i], volume[i])),
    }
    for name, (updater, step) in cases.items():
        start = time.perf_counter()
        for i in range(len(close)):
            step(updater, i)
        per_step_us = (time.perf_counter() - start) / len(close) * 1e6
        print(f"  {name:<14} {per_step_us:.2f} us/update (incl. loop overhead)")


def live_inputs() -> list[AnalysisInput]:
    seconds = realdata.klines(realdata.BTC_1S_2024)
    minutes = realdata.klines(realdata.BTC_1M_2024)
    trades = realdata.columns(realdata.derived_aggtrade_rows(realdata.BTC_AGG_2024))
    books = realdata.depth_books(realdata.BTC_DEPTH_2024)
    start = int(seconds.open_time_ms[0])
    hourly_all = realdata.klines(realdata.BTC_USDM_1H)
    hourly = hourly_all.until(start + 700_000).tail(3000)
    htf = {"1h": hourly.tail(500), **{i: resample(hourly, i).tail(500) for i in ("4h", "1d", "3d", "1w", "1M")}}
    out = []
    book_index = 0
    for ts_ms in range(start + 60_000, start + 640_000, 1_000):
        while book_index + 1 < len(books) and books[book_index + 1].ts_ms <= ts_ms:
            book_index += 1
        book = books[book_index]
        out.append(AnalysisInput("BTCUSD", ts_ms, book.mid, DataSource.REPLAY, htf, seconds, minutes, trades, book,
                                 book.spread, True, 0.1, 10_000.0))
    return out


def main() -> None:
    print("incremental updaters:")
    bench_updaters()
    inputs = live_inputs()
    cold = []
    for inp in inputs[:50]:
        t = time.perf_counter()
        zone_candidates(inp.htf, inp.ts_ms)
        cold.append(time.perf_counter() - t)
    print("zones from scratch (6 timeframes x 500 candles):", percentiles(cold))
    for label, memo in (("analyse, zones memoised", ZoneMemo()), ("analyse, no memo", None)):
        samples = []
        for inp in inputs:
            t = time.perf_counter()
            analyse(inp, memo=memo)
            samples.append(time.perf_counter() - t)
        print(f"{label}:", percentiles(samples))


if __name__ == "__main__":
    main()
