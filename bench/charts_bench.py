"""Chart render time: S/R (120 candles, zones, plan), depth (20x20 book) and equity (720 points).

Goal: p50 under ~150 ms per chart on the 2-core dev machine (issue target: under 400 ms).
Inputs are the recorded Binance data the chart tests use. Run: .venv/bin/python bench/charts_bench.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from charts.depth import render_depth_chart  # noqa: E402
from charts.equity import render_equity_chart  # noqa: E402
from charts.sr import render_sr_chart  # noqa: E402
from tests.charts.chart_inputs import BTC_1H, load_book, load_klines, long_plan, zones_around  # noqa: E402

RUNS = 30
GOAL_P50_MS = 150.0


def timings_ms(render: Callable[[], bytes]) -> list[float]:
    render()  # warm-up: font cache, first-use imports
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        render()
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples)


def main() -> None:
    btc = load_klines(BTC_1H, "BTCUSDT", "1h")
    zones, plan, price = zones_around(btc), long_plan(btc), float(btc.close[-1])
    book = load_book("BTCUSDT", 0)
    equity = [(int(ts), 10_000.0 * float(close) / float(btc.close[0])) for ts, close in zip(btc.open_time_ms, btc.close,
                                                                                         strict=True)]
    cases = {
        "sr (120 candles, 5 zones, plan)": lambda: render_sr_chart(btc, zones, price=price, plan=plan, title="BTCUSD",
                                                                   source_label="SIMULATED"),
        "depth (20x20 levels, walls)": lambda: render_depth_chart(book, voids=[(61831.0, 61832.5)], title="BTCUSD"),
        f"equity ({len(equity)} points)": lambda: render_equity_chart(equity, title="Equity"),
    }
    worst = 0.0
    for name, render in cases.items():
        samples = timings_ms(render)
        p50 = statistics.median(samples)
        worst = max(worst, p50)
        print(f"{name:34s} p50 {p50:6.1f} ms  p95 {samples[int(0.95 * (len(samples) - 1))]:6.1f} ms  "
              f"max {samples[-1]:6.1f} ms  ({len(render()) // 1024} KiB)")
    print(f"{'ok' if worst < GOAL_P50_MS else 'SLOW'}: worst p50 {worst:.1f} ms (goal < {GOAL_P50_MS:.0f} ms)")


if __name__ == "__main__":
    main()
