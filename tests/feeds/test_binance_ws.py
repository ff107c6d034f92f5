"""BinanceWsFeed against a local websockets server speaking Binance's combined-stream protocol."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from core.feeds.binance_endpoints import BinanceEndpoints
from core.feeds.binance_streams import StreamParams, plan_connections
from core.feeds.binance_ws import BinanceWsFeed, WsParams
from core.feeds.recording import Recorder, read_frames, record
from core.market.health import FeedHealth, HealthParams, HealthStatus
from core.market.symbols import BinanceMarket, SymbolMap, SymbolSpec
from core.models import BookSnapshot, Candle, MarketEvent, Trade
from core.ports import FixedClock
from tests.feeds.binance_fakes import FakeBinanceWs, frames_by_stream
from tests.paths import BINANCE_DATA

RECORDINGS = [
    BINANCE_DATA / "aggtrades/ws_aggTrade_spot_BTCUSDT_20210404.txt",
    BINANCE_DATA / "aggtrades/ws_aggTrade_spot_ETHUSDT_20210404.txt",
    BINANCE_DATA / "aggtrades/ws_aggTrade_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt",
    BINANCE_DATA / "klines/ws_kline_1m_spot_BTCUSDT_ETHUSDT_DOTUSDT_20210404.txt",
    BINANCE_DATA / "klines/ws_kline_1m_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt",
    BINANCE_DATA / "depth/derived_depth20_100ms_BTCUSDT_20240808T2354-20240809T0005.txt.gz",
    BINANCE_DATA / "depth/derived_depth20_100ms_ETHUSDT_20240808T2354-20240809T0005.txt.gz",
    BINANCE_DATA / "ws/cryptofeed_usdm_BINANCE_FUTURES.ws.1.0.txt",
]
# The futures recording has diff depth only; its payload has the futures depth shape (e,E,T,U,u,pu,b,a),
# so it is served under the depth20 name to exercise the futures decoding path.
RENAME = {"sushiusdt@depth@100ms": "sushiusdt@depth20@100ms"}


def symbol_map() -> SymbolMap:
    return SymbolMap([
        SymbolSpec("BTCUSD", "BTCUSDT", BinanceMarket.SPOT, "BTCUSD"),
        SymbolSpec("ETHUSD", "ETHUSDT", BinanceMarket.SPOT, "ETHUSD"),
        SymbolSpec("SUSHIUSD", "SUSHIUSDT", BinanceMarket.FUTURES, "SUSHIUSD"),
        SymbolSpec("GBPUSD", None, None, "GBPUSD"),
    ])


def ws_params(**overrides: object) -> WsParams:
    base = dict(silence_timeout_s=2.0, reconnect_backoff_initial_s=0.05, reconnect_backoff_max_s=0.2,
                open_timeout_s=2.0, close_timeout_s=0.2, control_interval_s=0.01,
                streams=StreamParams(spot_kline_interval="1m"))  # the recordings carry 1m klines
    base.update(overrides)
    return WsParams(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def recorded_frames() -> dict[str, list[bytes]]:
    return frames_by_stream(RECORDINGS, RENAME)


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


class Collector:
    def __init__(self) -> None:
        self.events: list[MarketEvent] = []

    def __call__(self, event: MarketEvent) -> None:
        self.events.append(event)

    def kinds(self, symbol: str) -> set[type]:
        return {type(e) for e in self.events if e.symbol == symbol}


def make_feed(server: FakeBinanceWs, clock: FixedClock, health: FeedHealth | None = None,
              **params: object) -> tuple[BinanceWsFeed, Collector, FeedHealth]:
    health = health or FeedHealth(clock)
    feed = BinanceWsFeed(symbol_map(), health, clock, endpoints=BinanceEndpoints.local(server.url),
                         params=ws_params(**params), rng=random.Random(7))
    collector = Collector()
    feed.subscribe(collector)
    return feed, collector, health


def test_plan_routes_futures_streams_and_shards() -> None:
    endpoints = BinanceEndpoints("wss://s", "wss://f")
    plans = plan_connections(symbol_map(), endpoints)
    by_name = {p.name: p for p in plans}
    assert by_name["spot#0"].base_url == "wss://s/stream"
    assert by_name["spot#0"].streams == ("btcusdt@kline_1s", "btcusdt@depth20@100ms", "btcusdt@aggTrade",
                                        "ethusdt@kline_1s", "ethusdt@depth20@100ms", "ethusdt@aggTrade")
    assert by_name["futures/public#0"].url == "wss://f/public/stream?streams=sushiusdt@depth20@100ms"
    assert by_name["futures/market#0"].streams == ("sushiusdt@aggTrade", "sushiusdt@kline_1m")
    sharded = plan_connections(symbol_map(), endpoints, StreamParams(max_streams_per_connection=4,
                                                                     url_streams_max=3))
    spot = [p for p in sharded if p.market is BinanceMarket.SPOT]
    assert [len(p.streams) for p in spot] == [4, 2]
    assert spot[0].subscribe_later == ("ethusdt@kline_1s",) and spot[0].symbols == ("BTCUSD", "ETHUSD")


async def test_feed_parses_every_stream_kind_on_routed_paths(recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    async with FakeBinanceWs(recorded_frames) as server:
        feed, got, health = make_feed(server, clock)
        await feed.start()
        try:
            await wait_until(lambda: all(got.kinds(s) == {Trade, Candle, BookSnapshot}
                                         for s in ("BTCUSD", "ETHUSD", "SUSHIUSD")))
        finally:
            await feed.stop()
    assert sorted(p.split("?")[0] for p in server.paths) == ["/market/stream", "/public/stream", "/stream"]
    btc_trades = [e for e in got.events if isinstance(e, Trade) and e.symbol == "BTCUSD"]
    first = next(read_frames(RECORDINGS[0]))
    assert btc_trades[0].price == 58001.03 and b'"p":"58001.03000000"' in first.frame
    assert {e.interval for e in got.events if isinstance(e, Candle)} == {"1m"}
    assert health.status("BTCUSD")[0] is HealthStatus.OK
    assert sum(s.malformed for s in feed.stats().values()) == 0


async def test_feed_answers_server_pings(recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    async with FakeBinanceWs(recorded_frames, ping_interval_s=0.02, frame_interval_s=0.05) as server:
        feed, got, _ = make_feed(server, clock)
        await feed.start()
        try:
            await wait_until(lambda: server.open_connections() == 3)
            await asyncio.sleep(0.3)  # ~15 pings; an unanswered one would make the server close (timeout 1 s)
            assert server.open_connections() == 3
            assert all(s.reconnects == 0 for s in feed.stats().values())
        finally:
            await feed.stop()


async def test_reconnects_after_drop_and_health_goes_stale_degraded_ok(
        recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    health = FeedHealth(clock, HealthParams(recent_window_s=60))
    async with FakeBinanceWs(recorded_frames) as server:
        feed, got, health = make_feed(server, clock, health, reconnect_backoff_initial_s=0.3,
                                      reconnect_backoff_max_s=0.3)
        await feed.start()
        try:
            await wait_until(lambda: got.kinds("BTCUSD") == {Trade, Candle, BookSnapshot})
            assert health.status("BTCUSD")[0] is HealthStatus.OK
            server.drop_all()
            await wait_until(lambda: health.status("BTCUSD")[0] is HealthStatus.STALE)
            assert "disconnected" in health.status("BTCUSD")[1]
            await wait_until(lambda: feed.stats()["spot#0"].connects == 2)
            count = len(got.events)
            await wait_until(lambda: len(got.events) > count + 10)
            status, reason = health.status("BTCUSD")
            assert status is HealthStatus.DEGRADED and "reconnected" in reason
            clock.advance(61_000)  # the reconnect leaves the recent window; messages keep flowing
            count = len(got.events)
            await wait_until(lambda: len(got.events) > count + 30)
            assert health.status("BTCUSD")[0] is HealthStatus.OK
        finally:
            await feed.stop()


async def test_silent_connection_is_replaced(recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    async with FakeBinanceWs(recorded_frames) as server:
        feed, got, health = make_feed(server, clock, silence_timeout_s=0.2)
        await feed.start()
        try:
            await wait_until(lambda: len(got.events) > 20)
            server.stall()
            await wait_until(lambda: feed.stats()["spot#0"].reconnects >= 1)
            assert feed.stats()["spot#0"].last_reason.startswith("silent for")
            count = len(got.events)
            await wait_until(lambda: len(got.events) > count + 20)  # data flows again
        finally:
            await feed.stop()


async def test_garbage_frames_are_counted_and_skipped(recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    health = FeedHealth(clock, HealthParams(malformed_degraded_count=3), symbol_resolver=symbol_map().from_binance)
    async with FakeBinanceWs(recorded_frames) as server:
        feed, got, health = make_feed(server, clock, health)
        await feed.start()
        try:
            await wait_until(lambda: got.kinds("BTCUSD") == {Trade, Candle, BookSnapshot})
            server.send_garbage("garbage", b"\x00\x01binary", '{"stream":"btcusdt@aggTrade","data":{"a":"x"}}',
                                '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","a":1', '{"result":null,"id":9}')
            await wait_until(lambda: sum(s.malformed for s in feed.stats().values()) >= 4)
            server.send_garbage(*['{"stream":"btcusdt@aggTrade","data":{"p":"1"}}'] * 2)
            count = len(got.events)
            await wait_until(lambda: len(got.events) > count + 20)
        finally:
            await feed.stop()
    assert sum(s.malformed for s in feed.stats().values()) == 6  # the ack is not malformed
    assert all(s.reconnects == 0 for s in feed.stats().values())
    rows = {(r.symbol, r.stream): r for r in health.report()}
    assert rows[("BTCUSD", "aggTrade")].malformed == 3  # the torn frame names no stream it can be tied to
    assert rows[("BTCUSD", "aggTrade")].status is HealthStatus.DEGRADED


async def test_server_shutdown_and_proactive_reconnects(recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    async with FakeBinanceWs(recorded_frames) as server:
        feed, got, _ = make_feed(server, clock, reconnect_backoff_initial_s=30.0, reconnect_backoff_max_s=30.0)
        await feed.start()
        try:
            await wait_until(lambda: len(got.events) > 10)
            server.send_garbage('{"e":"serverShutdown","E":1770123456789}')
            # no 30 s backoff: a shutdown notice reconnects at once (on whichever connection got it)
            await wait_until(lambda: sum(s.connects for s in feed.stats().values()) == 4)
            assert [s.last_reason for s in feed.stats().values()].count("server shutdown notice") == 1
        finally:
            await feed.stop()
        aged, aged_events, _ = make_feed(server, clock, max_connection_age_s=0.15,
                                         reconnect_backoff_initial_s=30.0)
        await aged.start()
        try:
            await wait_until(lambda: aged.stats()["spot#0"].connects >= 2)
            assert aged.stats()["spot#0"].last_reason.startswith("proactive reconnect")
        finally:
            await aged.stop()


async def test_streams_past_the_url_are_subscribed_in_batches(recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    async with FakeBinanceWs(recorded_frames) as server:
        feed, got, _ = make_feed(server, clock, subscribe_batch_size=2,
                                 streams=StreamParams(spot_kline_interval="1m", url_streams_max=1))
        await feed.start()
        try:
            await wait_until(lambda: got.kinds("ETHUSD") == {Trade, Candle, BookSnapshot})
        finally:
            await feed.stop()
    spot_url = next(p for p in server.paths if p.startswith("/stream"))
    assert spot_url == "/stream?streams=btcusdt@kline_1m"
    spot_requests = [r for r in server.subscribe_requests if "sushiusdt" not in r[0]]
    assert spot_requests[:3] == [["btcusdt@depth20@100ms", "btcusdt@aggTrade"],
                                 ["ethusdt@kline_1m", "ethusdt@depth20@100ms"], ["ethusdt@aggTrade"]]
    assert ["sushiusdt@kline_1m"] in server.subscribe_requests


async def test_probe_and_connect_failures(recorded_frames: dict[str, list[bytes]]) -> None:
    clock = FixedClock()
    async with FakeBinanceWs(recorded_frames) as server:
        feed, _, _ = make_feed(server, clock)
        result = await feed.probe(timeout_s=2.0)
        assert result.reachable, result.detail
        url = server.url
    dead = BinanceWsFeed(symbol_map(), FeedHealth(clock), clock, endpoints=BinanceEndpoints.local(url),
                         params=ws_params())
    result = await dead.probe(timeout_s=1.0)
    assert not result.reachable and "cannot reach" in result.detail
    await dead.start()
    try:
        await wait_until(lambda: dead.stats()["spot#0"].reconnects >= 2)
        assert dead.stats()["spot#0"].last_reason.startswith("connect failed")
    finally:
        await dead.stop()


async def test_record_writes_frames_in_the_line_format(recorded_frames: dict[str, list[bytes]],
                                                       tmp_path: Path) -> None:
    clock = FixedClock(1_700_000_000_000)
    target = tmp_path / "capture.txt.gz"
    async with FakeBinanceWs(recorded_frames) as server:
        written = await record(["btcusd"], 0.005, target, symbol_map=symbol_map(), clock=clock,
                               endpoints=BinanceEndpoints.local(server.url), params=ws_params())
    frames = list(read_frames(target))
    assert written == len(frames) > 10
    assert all(f.recv_ns == 1_700_000_000_000 * 1_000_000 for f in frames)
    served = {f for stream in ("btcusdt@aggTrade", "btcusdt@kline_1m", "btcusdt@depth20@100ms")
              for f in recorded_frames[stream]}
    assert all(f.frame in served for f in frames)
    with pytest.raises(ValueError, match="no Binance market"):
        await record(["GBPUSD"], 0.001, tmp_path / "x.txt", symbol_map=symbol_map(), clock=clock)
    with Recorder(tmp_path / "plain.txt") as recorder:
        recorder.write('{"a":\n1}', 5)
    assert (tmp_path / "plain.txt").read_bytes() == b'5 {"a":1}\n'
