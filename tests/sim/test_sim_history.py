"""Simulated higher-timeframe history: Binance bucket alignment, depth, continuity with live data."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import UTC, datetime

import numpy as np
import pytest

from core.feeds.sim_history import bucket_open_ms, next_bucket_open_ms
from core.feeds.simulator import MarketSimulator
from core.models import Candle
from tests.paths import BINANCE_DATA

START_MS = 1_750_255_230_000  # Wednesday 2025-06-18 14:00:30 UTC (floored to 14:00:00)
SNAPSHOTS = ("spot_BTCUSDT_multi-interval_snapshot_20180428.csv",
             "spot_ETHUSDT_multi-interval_snapshot_20180716.csv",
             "spot_ADAUSDT_multi-interval_snapshot_20200424.csv")
INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d", "3d", "1w", "1M")


def real_open_times() -> dict[str, list[int]]:
    times: dict[str, list[int]] = defaultdict(list)
    for name in SNAPSHOTS:
        with (BINANCE_DATA / "klines" / name).open() as f:
            for row in csv.DictReader(f):
                times[f"{name}:{row['interval']}"].append(int(row["open_time_ms"]))
    return times


@pytest.mark.parametrize("interval", ["5m", "1h", "4h", "1d", "3d", "1w", "1M"])
def test_bucket_alignment_reproduces_real_binance_open_times(interval):
    checked = 0
    for key, opens in real_open_times().items():
        if not key.endswith(f":{interval}") or len(opens) < 2:
            continue
        opens_arr = np.array(opens, dtype=np.int64)
        assert (bucket_open_ms(opens_arr, interval) == opens_arr).all()
        assert (bucket_open_ms(opens_arr + 1234, interval) == opens_arr).all()
        follows = next_bucket_open_ms(opens_arr[:-1], interval) == opens_arr[1:]
        assert follows.mean() > 0.95  # the 2018 data has a few real exchange outages
        checked += len(opens)
    assert checked > 30


@pytest.fixture(scope="module")
def sim() -> MarketSimulator:
    return MarketSimulator(["BTCUSD", "EURUSD", "XAUUSD"], seed=9, clock_start_ms=START_MS)


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@pytest.mark.parametrize("interval", INTERVALS)
def test_history_candles_are_contiguous_closed_and_binance_aligned(sim, interval):
    candles = sim.history("BTCUSD", interval, 300)
    assert candles and len(candles) <= 300
    opens = np.array([c.open_time_ms for c in candles], dtype=np.int64)
    assert (bucket_open_ms(opens, interval) == opens).all()
    assert (next_bucket_open_ms(opens[:-1], interval) == opens[1:]).all()
    assert int(next_bucket_open_ms(opens[-1:], interval)[0]) <= sim.start_ms  # closed by the start
    for c in candles:
        assert c.closed and c.interval == interval and c.symbol == "BTCUSD"
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert c.volume > 0
    assert all(a.close == b.open for a, b in zip(candles, candles[1:], strict=False))


def test_weeks_start_on_monday_months_on_the_first_and_3d_on_binance_days(sim):
    assert {utc(c.open_time_ms).weekday() for c in sim.history("BTCUSD", "1w", 100)} == {0}
    assert {utc(c.open_time_ms).day for c in sim.history("BTCUSD", "1M", 100)} == {1}
    assert {(c.open_time_ms // 86_400_000) % 3 for c in sim.history("BTCUSD", "3d", 100)} == {1}


def test_history_reaches_back_more_than_three_years(sim):
    months = sim.history("BTCUSD", "1M", 500)
    assert len(months) >= 40
    assert sim.start_ms - months[0].open_time_ms > 3 * 365 * 86_400_000


def test_history_ends_at_the_live_start_price(sim):
    for symbol in sim.symbols:
        start_price = sim.last_price(symbol)
        for interval in ("1m", "5m", "1h"):
            last = sim.history(symbol, interval, 5)[-1]
            assert last.close == pytest.approx(start_price, rel=1e-12), (symbol, interval)
    assert sim.history("BTCUSD", "1m", 1)[-1].open_time_ms == sim.start_ms - 60_000


@pytest.mark.parametrize(("coarse", "fine", "count"), [("4h", "1h", 4), ("1d", "1h", 24), ("1h", "5m", 12),
                                                      ("15m", "1m", 15)])
def test_coarse_candles_are_exact_aggregates_of_fine_ones(sim, coarse, fine, count):
    fine_candles = {c.open_time_ms: c for c in sim.history("BTCUSD", fine, 1000)}
    compared = 0
    for c in sim.history("BTCUSD", coarse, 20):
        parts = [fine_candles.get(c.open_time_ms + i * (c.close_time_ms + 1 - c.open_time_ms) // count)
                 for i in range(count)]
        if any(p is None for p in parts):
            continue
        assert (c.open, c.close) == (parts[0].open, parts[-1].close)
        assert c.high == max(p.high for p in parts) and c.low == min(p.low for p in parts)
        assert math.isclose(c.volume, sum(p.volume for p in parts), rel_tol=1e-9)
        compared += 1
    assert compared >= 2


def test_end_ms_and_limit_select_the_candles_closed_by_then(sim):
    end = sim.start_ms - 10 * 86_400_000 + 5 * 3_600_000 + 123
    candles = sim.history("EURUSD", "1h", 7, end_ms=end)
    assert len(candles) == 7
    assert candles[-1].close_time_ms <= end < candles[-1].close_time_ms + 3_600_000


def test_unsupported_intervals_and_symbols_are_refused(sim):
    with pytest.raises(ValueError):
        sim.history("BTCUSD", "1s", 10)
    with pytest.raises(KeyError, match="BTCUSD"):
        sim.history("DOGEUSD", "1h", 10)


def real_hourly_vol(name: str) -> float:
    closes = np.genfromtxt(BINANCE_DATA / "klines" / name, delimiter=",", skip_header=1, usecols=(4,))
    return float(np.diff(np.log(closes)).std())


def test_btc_hourly_volatility_and_fat_tails_are_like_real_btc(sim):
    """Real BTCUSDT 1h (2024-01..2026-04, USD-M): s.d. 0.52%/h (49%/yr), kurtosis 12. The
    simulator targets 60%/yr long-run; accept a factor of 1.6 either way."""
    closes = np.array([c.close for c in sim.history("BTCUSD", "1h", 20_000)])
    returns = np.diff(np.log(closes))
    real = real_hourly_vol("usdm_BTCUSDT_1h_20240101-20260427.csv")
    assert 1 / 1.6 <= returns.std() / real <= 1.6
    kurtosis = ((returns - returns.mean()) ** 4).mean() / returns.var() ** 2
    assert kurtosis > 5
    absolute = np.abs(returns)
    assert np.corrcoef(absolute[1:], absolute[:-1])[0, 1] > 0.05  # volatility clusters


@pytest.mark.parametrize(("symbol", "low", "high"), [("EURUSD", 0.04, 0.12), ("XAUUSD", 0.09, 0.25)])
def test_fx_and_gold_have_their_own_volatility_scale(sim, symbol, low, high):
    closes = np.array([c.close for c in sim.history(symbol, "1d", 1000)])
    annual = np.diff(np.log(closes)).std() * math.sqrt(365)
    assert low <= annual <= high


def test_history_continues_with_the_live_bars(btc_hour):
    """After an hour of live simulation the hour that straddles the start is one candle whose
    open comes from history and whose close is the last live 1 s close of that hour."""
    sim = btc_hour.simulator
    hour = sim.start_ms // 3_600_000 * 3_600_000
    candle = next(c for c in sim.history("BTCUSD", "1h", 3) if c.open_time_ms == hour)
    seconds = [c for c in btc_hour.recorder.seconds if c.open_time_ms < hour + 3_600_000]
    assert candle.close == seconds[-1].close
    history_part = [c for c in sim.history("BTCUSD", "1m", 200) if hour <= c.open_time_ms < sim.start_ms]
    live_part = [c for c in seconds if c.open_time_ms >= sim.start_ms]
    assert candle.open == history_part[0].open
    assert candle.high == max(max(c.high for c in history_part), max(c.high for c in live_part))
    assert candle.low == min(min(c.low for c in history_part), min(c.low for c in live_part))


def test_live_minutes_are_the_aggregates_of_live_seconds(btc_hour):
    sim = btc_hour.simulator
    minutes = [c for c in sim.history("BTCUSD", "1m", 100) if c.open_time_ms >= sim.start_ms]
    assert len(minutes) >= 59
    by_minute: dict[int, list[Candle]] = defaultdict(list)
    for second in btc_hour.recorder.seconds:
        by_minute[second.open_time_ms // 60_000 * 60_000].append(second)
    for minute in minutes:
        parts = by_minute[minute.open_time_ms]
        assert len(parts) == 60
        assert (minute.open, minute.close) == (parts[0].open, parts[-1].close)
        assert minute.high == max(p.high for p in parts) and minute.low == min(p.low for p in parts)
        assert minute.trades == sum(p.trades for p in parts)
        assert math.isclose(minute.volume, sum(p.volume for p in parts), rel_tol=1e-9)


async def test_klines_is_the_history_provider_port(sim):
    candles = await sim.klines("XAUUSD", "4h", limit=10)
    assert candles == sim.history("XAUUSD", "4h", 10)
