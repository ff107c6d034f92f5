"""Benchmark: /analyse through the dispatcher (update in, reply out, chart excluded) and chart renders.

Runs on the simulator's history and market (seeded), with the card's chart turned off for the
timed runs; then renders the S/R chart on its own. Prints p50/p95; the last two lines are
``analyse_p95_ms=<x>`` and ``chart_p50_ms=<y>``. Targets: p95 < 100 ms, chart < 400 ms.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_settings  # noqa: E402
from bot.console import ConsoleSession, ConsoleUser  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.telegram import make_bot  # noqa: E402
from charts.sr import render_sr_chart  # noqa: E402
from core.ports import FixedClock  # noqa: E402

RUNS = 200
SYMBOLS = ("BTCUSD", "XAUUSD", "EURUSD", "GBPUSD")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="moneybot-bench-"))
    settings = load_settings({"MONEYBOT_DATA_DIR": str(data_dir), "MARKET_FEED": "sim", "TELEGRAM_ADMIN_IDS": "1"})
    clock = FixedClock(1_763_000_000_000)
    session = ConsoleSession(io.StringIO(), data_dir / "photos")
    bot = make_bot("1000:bench", session=session)
    runtime = await build_runtime(settings, bot, clock=clock, run_jobs=False)
    try:
        feed = runtime.services.market_feed
        for _ in range(600):  # ten simulated minutes of tape and book, the clock keeping pace
            feed.run_until(feed.simulator.now_ms + 1000)
            clock.set(feed.simulator.now_ms)
        runtime.tunables.set("bot.reply_chart", False)
        dp = runtime.dispatcher()
        user = ConsoleUser(1)
        for symbol in SYMBOLS:  # warm-up: imports, zone memo per symbol
            await dp.feed_update(bot, user.text_update(f"/analyse {symbol}"))
        timings = []
        for i in range(RUNS):
            feed.steps(10)  # one simulated second between requests: fresh book and tape
            clock.set(feed.simulator.now_ms)
            update = user.text_update(f"/analyse {SYMBOLS[i % len(SYMBOLS)]}")
            start = time.perf_counter()
            await dp.feed_update(bot, update)
            timings.append((time.perf_counter() - start) * 1000)
        service = runtime.services.analysis_service
        analysis = service.analyse("BTCUSD")
        candles = runtime.services.market.htf("BTCUSD", "1h")
        renders = []
        for _ in range(15):
            start = time.perf_counter()
            render_sr_chart(candles, analysis.drawn_zones, price=analysis.price, plan=analysis.plan,
                            title="BTCUSD 1h", source_label="SIMULATED")
            renders.append((time.perf_counter() - start) * 1000)
    finally:
        await runtime.close()
    print(f"/analyse through the dispatcher, {RUNS} runs over {', '.join(SYMBOLS)} (chart excluded):")
    print(f"  p50 {pct(timings, 0.5):.2f} ms  p95 {pct(timings, 0.95):.2f} ms  max {max(timings):.2f} ms  "
          f"mean {statistics.fmean(timings):.2f} ms   (target p95 < 100 ms)")
    print(f"S/R chart render, {len(renders)} runs: p50 {pct(renders, 0.5):.1f} ms  (target < 400 ms)")
    print(f"analyse_p95_ms={pct(timings, 0.95):.2f}")
    print(f"chart_p50_ms={pct(renders, 0.5):.1f}")


if __name__ == "__main__":
    asyncio.run(main())
