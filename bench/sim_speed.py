"""Simulator speed: CPU time to generate one simulated second for the 7 default symbols.

Goal: well under 10 ms of CPU per simulated second (it runs beside the bot), with book
snapshots every 100 ms. Also times the first history request (lazy generation) and a cached one.
Run: .venv/bin/python bench/sim_speed.py
"""

from __future__ import annotations

import time

from core.feeds.simulator import MarketSimulator, SimParams

START_MS = 1_723_161_240_000
GOAL_MS_PER_SIM_SECOND = 10.0


def cpu_ms(fn) -> float:
    t0 = time.process_time()
    fn()
    return (time.process_time() - t0) * 1000


def main() -> None:
    init_ms = cpu_ms(lambda: MarketSimulator(seed=7, clock_start_ms=START_MS))
    sim = MarketSimulator(seed=7, clock_start_ms=START_MS)
    sim.steps(100)  # warm-up
    seconds = 300
    events: list[int] = []
    spent = cpu_ms(lambda: events.append(len(sim.steps(seconds * 10))))
    per_second = spent / seconds
    print(f"init (7 symbols): {init_ms:.1f} ms CPU")
    print(f"live: {per_second:.2f} ms CPU per simulated second, 7 symbols, books every 100 ms "
          f"({events[0] / seconds:.0f} events/s); goal < {GOAL_MS_PER_SIM_SECOND} ms")
    quiet = MarketSimulator(seed=7, clock_start_ms=START_MS, params=SimParams(book_every_steps=0))
    quiet.steps(100)
    spent = cpu_ms(lambda: quiet.steps(seconds * 10))
    print(f"live without book snapshots: {spent / seconds:.2f} ms CPU per simulated second")
    first = cpu_ms(lambda: sim.history("BTCUSD", "1h", 500))
    cached = cpu_ms(lambda: [sim.history("BTCUSD", iv, 500) for iv in ("1h", "4h", "1d", "3d", "1w", "1M")])
    print(f"history: first request {first:.1f} ms (generates ~3.5 years), then 6 intervals {cached:.1f} ms")
    print("PASS" if per_second < GOAL_MS_PER_SIM_SECOND else "FAIL")


if __name__ == "__main__":
    main()
