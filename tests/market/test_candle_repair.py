"""Higher-timeframe candles built across a feed gap are repaired from Binance REST (a local server
speaking Binance's protocol), closed ones are refreshed on their close, and /health lists a candle that
could not be repaired. Data: the real BTCUSDT 1m and 1h klines fetched together on 2018-04-28."""

from __future__ import annotations

import csv

import pytest

from core.feeds.binance_endpoints import BinanceEndpoints
from core.feeds.binance_history import RestHistory
from core.feeds.binance_rest import BinanceRestClient
from core.market.candle_repair import CandleRepairer, RepairParams
from core.market.health import FeedHealth
from core.market.state import MarketState
from core.market.symbols import default_symbol_map
from core.models import Candle, DataSource
from core.ports import FixedClock
from core.tunables import TunableValues, catalog
from handlers.market import render_health
from tests.feeds.binance_fakes import FakeBinanceRest, kline_rows
from tests.paths import BINANCE_DATA

SNAPSHOT = BINANCE_DATA / "klines" / "spot_BTCUSDT_multi-interval_snapshot_20180428.csv"
HOUR_MS, MINUTE_MS = 3_600_000, 60_000
GAP_HOUR = 1_524_895_200_000  # 2018-04-28 06:00 UTC


def snapshot(interval: str) -> list[tuple[int, float, float, float, float, float]]:
    with SNAPSHOT.open() as f:
        return [(int(r["open_time_ms"]), float(r["open"]), float(r["high"]), float(r["low"]), float(r["close"]),
                 float(r["volume"])) for r in csv.DictReader(f) if r["interval"] == interval]


MINUTES = snapshot("1m")
HOURS = {row[0]: row for row in snapshot("1h")}
# the 16 minutes of the 06:00 hour around its high go missing, as in a feed outage
HIGH_MINUTE = max((m for m in MINUTES if GAP_HOUR <= m[0] < GAP_HOUR + HOUR_MS), key=lambda m: m[2])[0]
GAP = range(HIGH_MINUTE - 8 * MINUTE_MS, HIGH_MINUTE + 8 * MINUTE_MS, MINUTE_MS)
NOW_MS = MINUTES[-1][0] + 2 * MINUTE_MS  # 10:16, while the 10:00 hour still forms


def fed_market(clock: FixedClock, *, gap: range = GAP, market: MarketState | None = None, until_ms: int = 1 << 62,
               volume_scale: float = 1.0) -> MarketState:
    """The real minutes, as closed 1m klines, without the gap's; HTF candles rolled up by the store."""
    market = market or MarketState(default_symbol_map(), clock)
    last = market.minutes("BTCUSD")
    after = int(last.open_time_ms[-1]) if len(last) else -1
    for t, o, h, lo, c, v in MINUTES:
        if after < t < until_ms and t not in gap:
            market.apply(Candle("BTCUSD", "1m", t, o, h, lo, c, v * volume_scale, True))
    return market


def ohlcv(candle) -> tuple[float, ...]:
    return candle[1:6]


def hourly(market: MarketState) -> dict[int, tuple[float, ...]]:
    arrays = market.htf("BTCUSD", "1h")
    return {int(t): (float(o), float(h), float(lo), float(c), float(v)) for t, o, h, lo, c, v in
            zip(arrays.open_time_ms, arrays.open, arrays.high, arrays.low, arrays.close, arrays.volume, strict=True)}


def rest_client(server: FakeBinanceRest, clock: FixedClock) -> BinanceRestClient:
    return BinanceRestClient(clock, endpoints=BinanceEndpoints("ws://unused", "ws://unused", server.url, server.url))


def binance_tables() -> dict:
    return {("spot", "BTCUSDT", "1h"): kline_rows(list(HOURS.values()), HOUR_MS),
            ("spot", "BTCUSDT", "4h"): kline_rows(snapshot("4h"), 4 * HOUR_MS)}


async def test_a_16_minute_gap_in_real_1m_data_the_repaired_1h_candle_equals_binances():
    assert len(GAP) == 16
    clock = FixedClock(NOW_MS)
    market = fed_market(clock)
    built = hourly(market)
    full_hours = [t for t in built if t + HOUR_MS <= MINUTES[-1][0]]
    assert GAP_HOUR in built and len(full_hours) >= 7
    assert built[GAP_HOUR] != pytest.approx(ohlcv(HOURS[GAP_HOUR]))  # flat fillers hid the hour's high
    assert built[GAP_HOUR][1] < HOURS[GAP_HOUR][2]
    for t in full_hours:  # hours without a gap already equal Binance's (the roll-up is right)
        if t != GAP_HOUR:
            assert built[t] == pytest.approx(ohlcv(HOURS[t]), rel=1e-12)

    async with FakeBinanceRest(binance_tables()) as server:
        client = rest_client(server, clock)
        repairer = CandleRepairer(market, RestHistory(client, default_symbol_map(), clock), clock)
        built_4h = len(market.htf("BTCUSD", "4h"))
        assert built_4h >= 1  # 04:00-08:00 was rolled up from the hours
        try:
            assert await repairer.run_once() == len(built) + built_4h  # every candle the store built itself
        finally:
            await client.close()
    repaired = hourly(market)
    assert repaired[GAP_HOUR] == pytest.approx(ohlcv(HOURS[GAP_HOUR]), rel=1e-12)
    assert all(repaired[t] == pytest.approx(ohlcv(HOURS[t]), rel=1e-12) for t in built)
    assert market.unrepaired_candles() == [] and repairer.pending() == 0


async def test_closed_candles_are_refreshed_on_their_close_in_live_mode():
    clock = FixedClock(NOW_MS)
    # minutes built from aggTrades can miss volume: the store's own hours are a little light
    market = fed_market(clock, gap=range(0), until_ms=GAP_HOUR, volume_scale=0.99)
    async with FakeBinanceRest(binance_tables()) as server:
        client = rest_client(server, clock)
        repairer = CandleRepairer(market, RestHistory(client, default_symbol_map(), clock), clock)
        try:
            first = await repairer.run_once()
            assert first == len(hourly(market)) >= 3
            calls = len(server.calls)
            assert await repairer.run_once() == 0 and len(server.calls) == calls  # nothing new closed
            fed_market(clock, gap=range(0), market=market, volume_scale=0.99)  # the feed goes on: more hours close
            assert await repairer.run_once() == len(hourly(market)) + len(market.htf("BTCUSD", "4h")) - first
        finally:
            await client.close()
    assert all(value == pytest.approx(ohlcv(HOURS[t]), rel=1e-12) for t, value in hourly(market).items())


async def test_a_gap_that_cannot_be_repaired_is_said_in_health():
    clock = FixedClock(NOW_MS)
    market = fed_market(clock)
    repairer = CandleRepairer(market, None, clock, no_history_reason="no REST history in replay")
    await repairer.run_once()
    unrepaired = market.unrepaired_candles()  # the hour with the gap, and the 4 hours holding it
    assert [(c.symbol, c.interval, c.open_time_ms, c.quiet_minutes) for c in unrepaired] == [
        ("BTCUSD", "1h", GAP_HOUR, 16), ("BTCUSD", "4h", GAP_HOUR - 2 * HOUR_MS, 16)]
    text = render_health(FeedHealth(clock), default_symbol_map(), DataSource.REPLAY, unrepaired)
    assert ("BTCUSD 1h candle 2018-04-28 06:00 UTC was built across 16 minutes without data and could not be "
            "repaired: no REST history in replay") in text
    assert "BTCUSD 4h candle 2018-04-28 04:00 UTC was built across 16 minutes" in text


async def test_rest_failures_are_retried_then_reported():
    clock = FixedClock(NOW_MS)
    market = fed_market(clock)
    async with FakeBinanceRest({}) as server:  # Binance answers, but has no such klines ("Invalid symbol")
        client = rest_client(server, clock)
        params = RepairParams(candle_repair_attempts=3, candle_repair_retry_s=10.0)
        repairer = CandleRepairer(market, RestHistory(client, default_symbol_map(), clock), clock, params=params)
        try:
            for attempt in range(1, 4):
                await repairer.run_once()
                assert (market.unrepaired_candles() == []) is (attempt < 3)
                await repairer.run_once()  # not due yet: no new request
                clock.advance(10_000)
        finally:
            await client.close()
    closed = 8 + 1  # eight hours and one 4-hour candle, each asked three times
    assert len(server.calls) == 3 * closed and repairer.pending() == 0
    unrepaired = market.unrepaired_candles()
    assert [c.open_time_ms for c in unrepaired] == [GAP_HOUR, GAP_HOUR - 2 * HOUR_MS]
    assert all(c.reason.startswith("REST failed: ") and c.reason.endswith("after 3 tries") for c in unrepaired)


async def test_the_attempts_setting_is_read_at_each_run():
    values = TunableValues(catalog())
    values.set("market.candle_repair_attempts", 1)
    clock = FixedClock(NOW_MS)
    market = fed_market(clock)
    async with FakeBinanceRest({}) as server:
        client = rest_client(server, clock)
        repairer = CandleRepairer(market, RestHistory(client, default_symbol_map(), clock), clock, params=values)
        try:
            await repairer.run_once()
        finally:
            await client.close()
    assert len(market.unrepaired_candles()) == 2 and "after 1 tries" in market.unrepaired_candles()[0].reason
