"""Benchmark: the full backtest (zones, synthesis, gates, exits) over the real 2020-21 BTCUSDT 5m series.

Run: .venv/bin/python bench/backtest.py
65,741 5m candles; 1h/4h/1d built from them (resampling is inside the timed part, parsing the CSV is
not). Target: at least 25,000 candles/s (under 2.7 s), stretch 50,000. Also times the reference
path (``analyse`` per decision) on a sample, to show what the batched path saves. The machine's load
is printed: the figure scales with it. Last line: ``backtest_candles_per_s=<x>``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.analysis.engine import analyse  # noqa: E402
from core.analysis.inputs import AnalysisInput  # noqa: E402
from core.backtest.data import build_timeframes, load_klines  # noqa: E402
from core.backtest.engine import run_backtest  # noqa: E402
from core.backtest.records import BacktestConfig  # noqa: E402
from core.models import DataSource, close_end_ms  # noqa: E402
from tests.paths import BINANCE_DATA  # noqa: E402

FILE = BINANCE_DATA / "klines" / "spot_BTCUSDT_5m_20201201-20210717.csv"
TIMEFRAMES = ("1h", "4h", "1d")
RUNS = 3


def main() -> None:
    started = time.perf_counter()
    base = load_klines(FILE, "BTCUSDT")
    parse_s = time.perf_counter() - started
    config = BacktestConfig("BTCUSDT")
    timings, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run_backtest(base, build_timeframes(base, intervals=TIMEFRAMES), config)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    best = min(timings)
    htf = build_timeframes(base, intervals=TIMEFRAMES)
    setup = htf["1h"]
    ends = close_end_ms(setup.open_time_ms, "1h")
    sample = range(1000, len(setup), 50)
    start = time.perf_counter()
    for i in sample:
        price = float(setup.close[i])
        analyse(AnalysisInput("BTCUSDT", int(ends[i]), price, DataSource.REPLAY, htf, spread=price * 2e-4,
                              has_order_flow=False), config.analysis)
    reference_ms = (time.perf_counter() - start) / len(sample) * 1e3
    per_decision_ms = best / max(1, len(result.evaluations)) * 1e3
    print(f"{len(base):,} candles (CSV parsed in {parse_s:.2f} s), {len(result.evaluations):,} decisions, "
          f"{len(result.trades)} trades; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  backtest wall time best of {RUNS}: {best:.2f} s (runs: {', '.join(f'{t:.2f}' for t in timings)})")
    print(f"  CPU time of this process, best of {RUNS}: {min(cpu):.2f} s ({len(base) / min(cpu):,.0f} candles per "
          "CPU-second: the wall figure on an idle core)")
    print(f"  per decision {per_decision_ms:.2f} ms all-in; analyse() per call on the same data {reference_ms:.2f} ms")
    print("  target >= 25,000 candles/s (stretch 50,000)")
    print(f"backtest_candles_per_s={len(base) / best:.0f}")


if __name__ == "__main__":
    main()
