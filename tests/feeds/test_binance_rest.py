"""BinanceRestClient and RestHistory against a local aiohttp server serving real recorded klines."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core.feeds.binance_endpoints import BinanceEndpoints
from core.feeds.binance_history import NoBinanceMarket, RestHistory
from core.feeds.binance_rest import BinanceBannedError, BinanceRestClient, BinanceRestError, RestParams
from core.market.symbols import BinanceMarket, SymbolMap, SymbolSpec
from core.models import Candle
from core.ports import FixedClock
from tests.feeds.binance_fakes import FakeBinanceRest, kline_rows
from tests.paths import BINANCE_DATA

HOUR_MS = 3_600_000


def csv_candles(name: str) -> list[tuple[int, float, float, float, float, float]]:
    with (BINANCE_DATA / "klines" / name).open() as f:
        return [(int(r["open_time_ms"]), float(r["open"]), float(r["high"]), float(r["low"]), float(r["close"]),
                 float(r["volume"])) for r in csv.DictReader(f)]


SPOT_1H = csv_candles("spot_BTCUSDT_1h_20260314-20260413.csv")  # 732 rows
FUT_1H = csv_candles("usdm_XRPUSDT_1h_20211117-20211121.csv")  # 100 rows
NOW_MS = SPOT_1H[-1][0] + 30 * 60_000  # half-way through the last (still forming) spot hour


def tables() -> dict[tuple[str, str, str], list[list]]:
    return {("spot", "BTCUSDT", "1h"): kline_rows(SPOT_1H, HOUR_MS),
            ("futures", "XRPUSDT", "1h"): kline_rows(FUT_1H, HOUR_MS)}


class FakeSleep:
    """Records requested waits and moves the clock instead of waiting."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(int(seconds * 1000))


def client_for(server: FakeBinanceRest, clock: FixedClock, **params: object) -> tuple[BinanceRestClient, FakeSleep]:
    sleep = FakeSleep(clock)
    endpoints = BinanceEndpoints("ws://unused", "ws://unused", server.url, server.url)
    return BinanceRestClient(clock, endpoints=endpoints, params=RestParams(**params), sleep=sleep), sleep  # type: ignore[arg-type]


def expected(rows: list[tuple], symbol: str) -> list[Candle]:
    def dec(x: float) -> float:
        return float(f"{x:.8f}")  # the server sends 8-decimal strings, as Binance does

    return [Candle(symbol, "1h", t, dec(o), dec(h), dec(lo), dec(c), dec(v), True, dec(v * c), 100 + i, dec(v / 2))
            for i, (t, o, h, lo, c, v) in enumerate(rows)]


async def test_backward_pagination_returns_closed_candles_only() -> None:
    clock = FixedClock(NOW_MS)
    async with FakeBinanceRest(tables()) as server:
        client, _ = client_for(server, clock, spot_page_limit=300)
        try:
            page = await client.klines_before("BTCUSDT", "spot", "1h", count=700, symbol="BTCUSD")
        finally:
            await client.close()
    assert page.candles == expected(SPOT_1H, "BTCUSD")[-701:-1]  # the forming last hour is dropped
    assert page.next_close_ms == SPOT_1H[-1][0] + HOUR_MS - 1
    assert len(server.calls) == 3 and [c["limit"] for c in server.calls] == ["300", "300", "101"]


async def test_forward_pagination_and_futures_path() -> None:
    clock = FixedClock(FUT_1H[-1][0] + 2 * HOUR_MS)  # every futures candle has closed
    async with FakeBinanceRest(tables()) as server:
        client, _ = client_for(server, clock, futures_page_limit=40)
        try:
            page = await client.klines_range("XRPUSDT", BinanceMarket.FUTURES, "1h", start_ms=FUT_1H[0][0])
        finally:
            await client.close()
    assert page.candles == expected(FUT_1H, "XRPUSDT")
    assert set(server.paths) == {"/fapi/v1/klines"} and len(server.calls) == 3  # 40 + 40 + 20


async def test_weight_header_is_tracked_and_near_the_cap_we_wait_for_the_next_minute() -> None:
    clock = FixedClock(NOW_MS)
    async with FakeBinanceRest(tables(), weight_start=4797) as server:
        client, sleep = client_for(server, clock)
        try:
            await client.klines("BTCUSDT", "spot", "1h", limit=5)
            assert client.used_weight("spot") == 4799 and sleep.waits == []
            await client.klines("BTCUSDT", "spot", "1h", limit=5)  # 4801 >= 80 % of 6000 afterwards
            assert sleep.waits == []
            await client.klines("BTCUSDT", "spot", "1h", limit=5)
        finally:
            await client.close()
    seconds_to_next_minute = (60_000 - NOW_MS % 60_000) / 1000
    assert sleep.waits == [pytest.approx(seconds_to_next_minute + 0.5)]


async def test_429_backs_off_as_told_then_succeeds() -> None:
    clock = FixedClock(NOW_MS)
    async with FakeBinanceRest(tables()) as server:
        server.script = [(429, {"Retry-After": "7"}, 0.0), (503, {}, 0.0)]
        client, sleep = client_for(server, clock, backoff_initial_s=0.5)
        try:
            page = await client.klines("BTCUSDT", "spot", "1h", limit=3)
        finally:
            await client.close()
    assert [c.open_time_ms for c in page.candles] == [r[0] for r in SPOT_1H[-3:-1]]
    assert sleep.waits == [7.0, 1.0] and len(server.calls) == 3  # Retry-After, then 0.5 * 2 ** 1


async def test_418_stops_every_request_until_retry_after_passes() -> None:
    clock = FixedClock(NOW_MS)
    async with FakeBinanceRest(tables()) as server:
        server.script = [(418, {"Retry-After": "120"}, 0.0)]
        client, sleep = client_for(server, clock)
        try:
            with pytest.raises(BinanceBannedError) as banned:
                await client.klines("BTCUSDT", "spot", "1h", limit=3)
            assert banned.value.until_ms == NOW_MS + 120_000
            clock.advance(60_000)
            with pytest.raises(BinanceBannedError, match="another 60 s"):
                await client.klines("BTCUSDT", "spot", "1h", limit=3)
            assert len(server.calls) == 1  # nothing was sent while banned
            clock.advance(60_001)
            page = await client.klines("BTCUSDT", "spot", "1h", limit=3, end_ms=NOW_MS)
        finally:
            await client.close()
    assert len(page.candles) == 2 and len(server.calls) == 2 and sleep.waits == []


async def test_timeouts_are_retried_then_reported() -> None:
    clock = FixedClock(NOW_MS)
    async with FakeBinanceRest(tables()) as server:
        server.script = [(200, {}, 0.5), (200, {}, 0.5)]
        client, sleep = client_for(server, clock, timeout_s=0.1, max_retries=1)
        try:
            with pytest.raises(BinanceRestError, match="timed out; gave up after 2 tries"):
                await client.klines("BTCUSDT", "spot", "1h", limit=3)
            with pytest.raises(BinanceRestError, match="Invalid symbol") as bad:
                await client.klines("NOPE", "spot", "1h", limit=3)
        finally:
            await client.close()
    assert bad.value.status == 400 and bad.value.code == -1121


async def test_history_cache_survives_a_restart_and_fetches_only_new_candles(tmp_path: Path) -> None:
    symbols = SymbolMap([SymbolSpec("BTCUSD", "BTCUSDT", BinanceMarket.SPOT, "BTCUSDc"),
                         SymbolSpec("GBPUSD", None, None, "GBPUSDc")])
    served = tables()
    all_rows = served[("spot", "BTCUSDT", "1h")]
    served[("spot", "BTCUSDT", "1h")] = all_rows[:-5]  # the server knows history up to 5 hours ago
    clock = FixedClock(all_rows[-6][0] + 30 * 60_000)
    async with FakeBinanceRest(served) as server:
        client, _ = client_for(server, clock)
        history = RestHistory(client, symbols, clock, tmp_path / "cache")
        first = await history.klines("BTCUSD", "1h", limit=200)
        assert [c.open_time_ms for c in first] == [r[0] for r in SPOT_1H[-206:-6]]
        assert len(server.calls) == 1
        again = await history.klines("BTCUSD", "1h", limit=100)
        assert again == first[-100:] and len(server.calls) == 1  # served from memory
        await client.close()

        restarted_client, _ = client_for(server, clock)
        restarted = RestHistory(restarted_client, symbols, clock, tmp_path / "cache")
        assert await restarted.klines("BTCUSD", "1h", limit=200) == first
        assert len(server.calls) == 1  # from disk, no request

        served[("spot", "BTCUSDT", "1h")][:] = all_rows  # three more hours pass
        clock.advance(3 * HOUR_MS)
        newer = await restarted.klines("BTCUSD", "1h", limit=200)
        assert [c.open_time_ms for c in newer] == [r[0] for r in SPOT_1H[-203:-3]]
        assert len(server.calls) == 2 and server.calls[-1]["startTime"] == str(first[-1].open_time_ms + 1)
        older = await restarted.klines("BTCUSD", "1h", limit=250, end_ms=newer[-1].open_time_ms + HOUR_MS - 1)
        assert [c.open_time_ms for c in older] == [r[0] for r in SPOT_1H[-253:-3]]
        assert len(server.calls) == 3  # one page of older candles, prepended
        historical = await restarted.klines("BTCUSD", "1h", limit=3, end_ms=SPOT_1H[-10][0] + 90 * 60_000)
        assert [c.open_time_ms for c in historical] == [r[0] for r in SPOT_1H[-12:-9]]
        await restarted_client.close()
    cached = (tmp_path / "cache" / "spot" / "BTCUSDT_1h.csv").read_text().splitlines()
    assert len(cached) == 1 + 250 and cached[0].startswith("open_time_ms")
    with pytest.raises(NoBinanceMarket):
        await restarted.klines("GBPUSD", "1h")
