"""Event bus benchmark: publish -> delivery latency with five subscribers during the full replay.

Every recording in ../shared/data/binance is replayed through the real ingest path (decode +
``MarketState.apply``) with the whale tap on, yielding to the event loop after each frame as a
websocket reader does. Whale trades are published from the ingest path; a probe event is also
published every ``--probe-every`` frames so there are enough samples. Five subscribers (light
work each, as a renderer or a journal writer would do) record when each event reached them.
Prints the latency percentiles over every delivery and the frames/s of the replay; the last line
is ``event_p99_ms=<x>`` (target: under 1 ms).

Run from the repository root: ``.venv/bin/python bench/events.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.bus import EventBus  # noqa: E402
from core.events import Event, FeedHealthChanged, WhaleTrade  # noqa: E402
from core.feeds.binance_decode import BinanceDecoder  # noqa: E402
from core.feeds.recording import market_of_recording, merge_recordings  # noqa: E402
from core.market.state import MarketState  # noqa: E402
from core.market.symbols import BinanceMarket, default_symbol_map  # noqa: E402
from core.market.whales import WhaleTap  # noqa: E402
from core.models import DataSource  # noqa: E402
from core.ports import FixedClock  # noqa: E402
from core.tunables import TunableValues, catalog  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "binance"
SUBSCRIBERS = 5


def percentile(sorted_values: list[int], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] / 1e6


async def run(probe_every: int) -> None:
    paths = [p for p in sorted(DATA.rglob("*.txt*")) if ".http." not in p.name]
    markets = [0 if market_of_recording(p) is BinanceMarket.SPOT else 1 for p in paths]
    records = list(merge_recordings(paths))
    symbol_map = default_symbol_map()
    tunables = TunableValues(catalog())
    bus = EventBus(default_maxsize=100_000)
    published: dict[int, int] = {}  # id(event) -> perf_counter_ns at publish
    latencies: list[int] = []
    delivered = [0] * SUBSCRIBERS

    def subscriber(index: int):
        def handle(event: Event) -> None:
            latencies.append(time.perf_counter_ns() - published[id(event)])
            delivered[index] += 1
            _ = f"{type(event).__name__} {event.ts_ms}"  # a little work, as a renderer would do
        return handle

    for index in range(SUBSCRIBERS):
        bus.subscribe(f"subscriber-{index}", subscriber(index))
    keep: list[Event] = []  # keep events alive so their ids stay unique

    def publish(event: Event) -> None:
        keep.append(event)
        published[id(event)] = time.perf_counter_ns()
        bus.publish(event)

    class TimedBus:
        def publish(self, event: Event) -> None:
            publish(event)

    whales = WhaleTap(TimedBus(), tunables)  # type: ignore[arg-type]
    clock = FixedClock(1_723_161_300_000)
    state = MarketState(symbol_map, clock, DataSource.REPLAY, on_whale=whales.on_trade)
    whales.refresh(state, symbol_map.symbols())
    decoders = [BinanceDecoder(symbol_map.from_binance, m) for m in (BinanceMarket.SPOT, BinanceMarket.FUTURES)]
    await bus.start()
    gc.collect()
    gc.freeze()  # the loaded recordings are not garbage: keep the collector off them during the replay
    started = time.perf_counter()
    for count, record in enumerate(records, 1):
        recv_ms = record.recv_ns // 1_000_000
        event = decoders[markets[record.source]].decode(record.frame, recv_ms)
        if event is not None:
            state.apply(event)
        if count % probe_every == 0:
            publish(FeedHealthChanged(ts_ms=recv_ms, symbol="BTCUSD", old_status="OK", new_status="OK"))
        await asyncio.sleep(0)  # a websocket reader yields after every frame
    elapsed = time.perf_counter() - started
    await bus.drain(30.0)
    await bus.stop()
    whale_count = sum(1 for e in keep if isinstance(e, WhaleTrade))
    latencies.sort()
    print(f"replayed {len(records):,} frames in {elapsed:.2f} s ({len(records) / elapsed:,.0f} frames/s, "
          f"yielding after each); published {len(keep):,} events ({whale_count:,} whale trades); "
          f"{SUBSCRIBERS} subscribers, {len(latencies):,} deliveries ({min(delivered):,} to each)")
    print(f"publish -> delivery: p50 {percentile(latencies, 0.5):.3f} ms, p90 {percentile(latencies, 0.9):.3f} ms, "
          f"p99 {percentile(latencies, 0.99):.3f} ms, max {latencies[-1] / 1e6:.3f} ms (target p99 < 1 ms)")
    print(f"event_p99_ms={percentile(latencies, 0.99):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probe-every", type=int, default=100, help="frames between probe events")
    args = parser.parse_args()
    asyncio.run(run(args.probe_every))


if __name__ == "__main__":
    main()
