"""ReplayFeed over the shared recordings: counts and last prices equal an independent parse."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import orjson
import pytest

from core.feeds.recording import Recorder, market_of_recording, read_frames
from core.feeds.replay import ReplayConfig, ReplayFeed, parse_speed
from core.market.state import MarketState
from core.market.symbols import BinanceMarket, default_symbol_map
from core.models import BookSnapshot, Candle, DataSource, MarketEvent, Trade
from core.ports import FixedClock
from tests.paths import BINANCE_DATA

LINE_FILES = [
    BINANCE_DATA / "aggtrades/ws_aggTrade_spot_BTCUSDT_20210404.txt",
    BINANCE_DATA / "aggtrades/ws_aggTrade_spot_ETHUSDT_20210404.txt",
    BINANCE_DATA / "aggtrades/ws_aggTrade_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt",
    BINANCE_DATA / "klines/ws_kline_1m_spot_BTCUSDT_ETHUSDT_DOTUSDT_20210404.txt",
    BINANCE_DATA / "depth/derived_depth20_100ms_ETHUSDT_20240808T2354-20240809T0005.txt.gz",
]


def independent_parse(paths: list[Path]) -> tuple[Counter, dict[str, float], dict[str, list], int]:
    """Trade counts and last trade prices per Binance symbol, last books, last receive ms: orjson only."""
    counts: Counter = Counter()
    last_price: dict[str, float] = {}
    books: dict[str, list] = {}
    last_ms = 0
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            for line in f:
                stamp, frame = line.split(b" ", 1)
                message = orjson.loads(frame)
                stream, data = message["stream"], message["data"]
                symbol = stream.split("@")[0].upper()
                last_ms = max(last_ms, int(stamp) // 1_000_000)
                if stream.endswith("@aggTrade"):
                    counts[symbol] += 1
                    last_price[symbol] = float(data["p"])
                elif "@depth20" in stream:
                    books[symbol] = data["bids"]
    return counts, last_price, books, last_ms


class Collector:
    def __init__(self) -> None:
        self.events: list[MarketEvent] = []

    def __call__(self, event: MarketEvent) -> None:
        self.events.append(event)


async def test_replay_reproduces_trade_counts_and_last_prices_exactly() -> None:
    symbols = default_symbol_map()
    clock = FixedClock(0)
    feed = ReplayFeed(LINE_FILES, from_binance=symbols.from_binance, speed=None, clock=clock)
    state = MarketState(symbols, clock, DataSource.REPLAY)
    got = Collector()
    feed.subscribe(got)
    feed.subscribe(state.apply)
    await feed.start()
    await feed.done.wait()
    counts, last_price, books, last_ms = independent_parse(LINE_FILES)
    names = {"BTCUSDT": "BTCUSD"}
    trades = [e for e in got.events if isinstance(e, Trade)]
    assert Counter(t.symbol for t in trades) == Counter({names.get(k, k): v for k, v in counts.items()})
    last_seen = {t.symbol: t.price for t in trades}
    assert last_seen == {names.get(k, k): v for k, v in last_price.items()}
    last_book = [e for e in got.events if isinstance(e, BookSnapshot)][-1]
    assert last_book.symbol == "ETHUSDT" and last_book.bids == tuple((float(p), float(q)) for p, q in books["ETHUSDT"])
    assert sum(isinstance(e, Candle) for e in got.events) == 118  # README: 118 kline frames
    assert feed.stats.malformed == 0 and feed.stats.passes == 1 and feed.source is DataSource.REPLAY
    assert clock.now_ms() == last_ms  # the clock followed the recorded receive times
    # events are merged by receive time across files
    stamps = [r.recv_ns for r in __import__("core.feeds.recording", fromlist=["x"]).merge_recordings(LINE_FILES)]
    assert stamps == sorted(stamps)


async def test_cryptofeed_captures_replay_with_their_recorded_counts() -> None:
    path = BINANCE_DATA / "ws/cryptofeed_spot_BINANCE-ee25be.0.txt"
    feed = ReplayFeed([path], speed=None)
    got = Collector()
    feed.subscribe(got)
    await feed.start()
    await feed.done.wait()
    trades = Counter(e.symbol for e in got.events if isinstance(e, Trade))
    candles = Counter(e.symbol for e in got.events if isinstance(e, Candle))
    assert trades == Counter({"DOTUSDT": 177, "BTCUSDT": 1227, "ETHUSDT": 506})  # README counts
    assert candles == Counter({"DOTUSDT": 34, "BTCUSDT": 44, "ETHUSDT": 40})
    assert feed.stats.malformed == 0  # REST lines are skipped, diff depth is not modelled
    assert market_of_recording(BINANCE_DATA / "ws/cryptofeed_usdm_BINANCE_FUTURES.ws.1.0.txt") is BinanceMarket.FUTURES


async def test_hftbacktest_raw_trades_replay() -> None:
    path = BINANCE_DATA / "ws/hftbacktest_spot_ethusdt_20240809.txt.gz"
    feed = ReplayFeed([path], speed=None)
    got = Collector()
    feed.subscribe(got)
    await feed.start()
    await feed.done.wait()
    assert sum(isinstance(e, Trade) for e in got.events) == 8409  # README: trade 8,409


async def test_loop_shifts_time_forward_by_whole_minutes() -> None:
    path = BINANCE_DATA / "aggtrades/ws_aggTrade_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt"
    feed = ReplayFeed([path], speed=None, loop=True)
    got = Collector()
    feed.subscribe(got)
    await feed.start()
    try:
        while feed.stats.passes < 2:
            await __import__("asyncio").sleep(0.001)
    finally:
        await feed.stop()
    first, second = got.events[:91], got.events[91:182]
    shift = second[0].ts_ms - first[0].ts_ms
    assert shift > first[-1].ts_ms - first[0].ts_ms and shift % 60_000 == 0
    assert [t.ts_ms + shift for t in first] == [t.ts_ms for t in second]
    assert [t.price for t in first] == [t.price for t in second]


async def test_paced_replay_finishes_and_keeps_state() -> None:
    path = BINANCE_DATA / "aggtrades/ws_aggTrade_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt"  # 28 s recorded
    feed = ReplayFeed([path], speed=500.0)
    got = Collector()
    feed.subscribe(got)
    await feed.start()
    await feed.done.wait()
    assert len(got.events) == 91 and not feed.loop


def test_config_from_environment(tmp_path: Path) -> None:
    assert ReplayConfig.from_env({}) is None
    assert ReplayConfig.from_env({"MARKET_FEED": "live"}) is None
    config = ReplayConfig.from_env({"MARKET_FEED": "replay:a.txt, b.txt.gz", "REPLAY_SPEED": "max",
                                    "REPLAY_LOOP": "1"})
    assert config == ReplayConfig((Path("a.txt"), Path("b.txt.gz")), None, True)
    assert ReplayConfig.from_env({"MARKET_FEED": "replay:a.txt"}) == ReplayConfig((Path("a.txt"),), 1.0, False)
    assert parse_speed("10") == 10.0 and parse_speed("10x") == 10.0 and parse_speed(None) == 1.0
    with pytest.raises(ValueError):
        parse_speed("0")
    with pytest.raises(FileNotFoundError):
        ReplayFeed([tmp_path / "missing.txt"])


def test_recorder_round_trip(tmp_path: Path) -> None:
    source = list(read_frames(BINANCE_DATA / "klines/ws_kline_1m_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt"))
    for name in ("copy.txt", "copy.txt.gz"):
        with Recorder(tmp_path / name) as recorder:
            for record in source:
                recorder.write(record.frame, record.recv_ns)
        assert [(r.recv_ns, r.frame) for r in read_frames(tmp_path / name)] == [(r.recv_ns, r.frame) for r in source]
    assert (tmp_path / "copy.txt.gz").read_bytes()[:2] == b"\x1f\x8b"
