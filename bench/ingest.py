"""Ingest benchmark: recorded Binance frames -> decode + adapter + MarketState.apply, as fast as possible.

The market state is wired as in the app: trades above the smallest whale tier are published as
``WhaleTrade`` events on an event bus with a subscriber. For each stream kind (depth20, aggTrade,
kline) and for the mixed stream (all of them merged by receive time) it prints messages per second through the full ingest path beside the raw
``orjson.loads`` rate on the same frames, and their ratio (plus decode + adapter alone, to show
which part costs what) (best of several alternating rounds,
one core, a fresh MarketState per round). Then it replays every recording in
../shared/data/binance four times through the same path (each pass shifted forward in time, as
the replay loop does) and prints the resident memory after each pass: it levels off once the
bounded buffers are full. The last line is
``ingest_ratio=<mixed ratio>``.

Run from the repository root: ``.venv/bin/python bench/ingest.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.bus import EventBus  # noqa: E402
from core.events import WhaleTrade  # noqa: E402
from core.feeds.binance_decode import BinanceDecoder  # noqa: E402
from core.feeds.recording import market_of_recording, merge_recordings  # noqa: E402
from core.market.state import MarketState  # noqa: E402
from core.market.symbols import BinanceMarket, default_symbol_map  # noqa: E402
from core.market.whales import WhaleTap  # noqa: E402
from core.models import Candle, DataSource  # noqa: E402
from core.ports import FixedClock  # noqa: E402
from core.tunables import TunableValues, catalog  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "binance"
KINDS = {
    "depth20": sorted((DATA / "depth").glob("derived_depth20_*.txt.gz")),
    "aggTrade": sorted((DATA / "aggtrades").glob("ws_aggTrade_*.txt")),
    "kline": sorted((DATA / "klines").glob("ws_kline_*.txt")),
}
TARGETS = {"depth20": 0.25, "aggTrade": 0.45, "kline": None, "mixed": 0.55}

Frames = list[tuple[bytes, int, int]]  # (frame, market index, receive ms)


def load(paths: list[Path]) -> Frames:
    markets = [0 if market_of_recording(p) is BinanceMarket.SPOT else 1 for p in paths]
    return [(r.frame, markets[r.source], r.recv_ns // 1_000_000) for r in merge_recordings(paths)]


def fresh_state() -> tuple[MarketState, list[BinanceDecoder]]:
    """A market state wired as the app wires it: whale trades published on an event bus with a subscriber."""
    symbol_map = default_symbol_map()
    tunables = TunableValues(catalog())
    bus = EventBus()
    bus.subscribe("whales", lambda event: None, WhaleTrade)  # not started: each publish is queued (bounded)
    whales = WhaleTap(bus, tunables)
    state = MarketState(symbol_map, FixedClock(1_723_161_300_000), DataSource.REPLAY, on_whale=whales.on_trade)
    whales.refresh(state, symbol_map.symbols())
    decoders = [BinanceDecoder(symbol_map.from_binance, m) for m in (BinanceMarket.SPOT, BinanceMarket.FUTURES)]
    return state, decoders


def run_raw(frames: Frames) -> None:
    loads = orjson.loads
    for frame, _, _ in frames:
        loads(frame)


def run_ingest(frames: Frames, state: MarketState, decoders: list[BinanceDecoder]) -> None:
    decode = [d.decode for d in decoders]
    apply = state.apply
    for frame, market, recv_ms in frames:
        event = decode[market](frame, recv_ms)
        if event is not None:
            apply(event)


def run_decode(frames: Frames, decoders: list[BinanceDecoder]) -> None:
    decode = [d.decode for d in decoders]
    for frame, market, recv_ms in frames:
        decode[market](frame, recv_ms)


def best_time(run: Callable[[], None], prepare: Callable[[], None] | None = None) -> float:
    if prepare is not None:
        prepare()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure(frames: Frames, rounds: int) -> tuple[float, float, float]:
    """Best msgs/s of (orjson.loads, decode + adapter only, full ingest), alternating rounds."""
    repeat = max(1, 20_000 // len(frames))  # at least ~20k messages per timing
    batch = frames * repeat
    raw_best = decode_best = ingest_best = float("inf")
    for _ in range(rounds):
        raw_best = min(raw_best, best_time(lambda: run_raw(batch)))
        state, decoders = fresh_state()
        decode_best = min(decode_best, best_time(lambda: run_decode(batch, decoders)))  # noqa: B023
        ingest_best = min(ingest_best, best_time(lambda: run_ingest(batch, state, decoders)))  # noqa: B023
    return len(batch) / raw_best, len(batch) / decode_best, len(batch) / ingest_best


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size in MB."""
    current = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


PASSES = 4  # rings fill up during the first passes; the plateau after that shows memory is bounded


def memory_passes() -> list[tuple[int, float, float]]:
    """Replay every recording PASSES times (each pass shifted past the previous one); RSS after each."""
    paths = [p for p in sorted(DATA.rglob("*.txt*")) if ".http." not in p.name]
    markets = [0 if market_of_recording(p) is BinanceMarket.SPOT else 1 for p in paths]
    state, decoders = fresh_state()
    results = []
    shift_ms = 0
    for _ in range(PASSES):
        count = 0
        first = last = 0
        for record in merge_recordings(paths):
            recv_ms = record.recv_ns // 1_000_000 + shift_ms
            first = first or recv_ms
            last = recv_ms
            event = decoders[markets[record.source]].decode(record.frame, recv_ms)
            if event is None:
                continue
            if shift_ms:
                event = (replace(event, open_time_ms=event.open_time_ms + shift_ms) if type(event) is Candle
                         else replace(event, ts_ms=event.ts_ms + shift_ms))
            state.apply(event)
            count += 1
        gc.collect()
        results.append((count, *rss_mb()))
        shift_ms += -(-(last - first + 1000) // 60_000) * 60_000
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    sets = {kind: load(paths) for kind, paths in KINDS.items()}
    sets["mixed"] = load([p for paths in KINDS.values() for p in paths])
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds, best of each; frames: "
          + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    print(f"{'stream':10s} {'orjson.loads/s':>15s} {'decode/s':>12s} {'(ratio)':>8s} {'ingest/s':>12s} "
          f"{'ratio':>7s}  target (ingest ratio)")
    ratios = {}
    for kind, frames in sets.items():
        raw, decoded, ingest = measure(frames, args.rounds)
        ratios[kind] = ingest / raw
        target = TARGETS.get(kind)
        verdict = "" if target is None else f">= {target:.2f} {'ok' if ratios[kind] >= target else 'MISSED'}"
        print(f"{kind:10s} {raw:15,.0f} {decoded:12,.0f} {decoded / raw:8.3f} {ingest:12,.0f} "
              f"{ratios[kind]:7.3f}  {verdict}")
    gc.collect()
    print(f"memory before the replay passes (frames loaded): RSS {rss_mb()[0]:.1f} MB")
    for index, (events, current, peak) in enumerate(memory_passes(), start=1):
        print(f"memory after replaying everything, pass {index}: {events:,} events, "
              f"RSS {current:.1f} MB, peak RSS {peak:.1f} MB")
    print(f"ingest_ratio={ratios['mixed']:.3f}")


if __name__ == "__main__":
    main()
