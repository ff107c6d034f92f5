"""Candle aggregation: bucket alignment, trades -> 1s -> 1m against direct OHLCV (hypothesis and
real recorded Binance data), and higher timeframes against real Binance multi-interval snapshots."""

import csv
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.market.candles import (
    CandleAggregator,
    TradeCandleBuilder,
    aggregate_candles,
    bucket_start_ms,
    candles_from_trades,
    next_bucket_start_ms,
)
from core.models import Candle, Side, Trade
from tests.paths import BINANCE_DATA

KLINES = BINANCE_DATA / "klines"
AGG_BTC = BINANCE_DATA / "aggtrades" / "derived_aggtrades_BTCUSDT_20240808T2354-20240809T0005.csv"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("moment", "interval", "expected"),
    [
        ("2024-08-08 23:54:16.342", "1s", "2024-08-08 23:54:16"),
        ("2024-08-08 23:54:16.342", "1m", "2024-08-08 23:54:00"),
        ("2024-08-08 23:54:16", "4h", "2024-08-08 20:00:00"),
        ("2024-08-08 23:54:16", "1d", "2024-08-08 00:00:00"),
        ("2024-08-08 23:54:16", "1w", "2024-08-05 00:00:00"),  # Monday
        ("2024-08-05 00:00:00", "1w", "2024-08-05 00:00:00"),
        ("2024-08-04 23:59:59", "1w", "2024-07-29 00:00:00"),
        ("2024-08-08 23:54:16", "1M", "2024-08-01 00:00:00"),
        ("2024-12-31 23:59:59", "1M", "2024-12-01 00:00:00"),
        ("2017-08-18 12:00:00", "3d", "2017-08-17 00:00:00"),  # Binance's first BTCUSDT 3d bar
        ("2017-08-20 00:00:00", "3d", "2017-08-20 00:00:00"),
    ],
)
def test_bucket_start_table(moment, interval, expected):
    assert bucket_start_ms(ms(moment), interval) == ms(expected)


@pytest.mark.parametrize(
    ("open_", "interval", "expected"),
    [("2024-12-01", "1M", "2025-01-01"), ("2024-02-01", "1M", "2024-03-01"), ("2024-08-05", "1w", "2024-08-12"),
     ("2024-08-08 23:59:00", "1m", "2024-08-09 00:00:00")],
)
def test_next_bucket_table(open_, interval, expected):
    assert next_bucket_start_ms(ms(open_), interval) == ms(expected)


# ---------------------------------------------------------------------------- direct reference


def direct_ohlcv(trades: list[Trade], bucket_ms: int) -> dict[int, tuple]:
    """(open, high, low, close, volume, count, taker_buy) per bucket, computed straight from trades."""
    out: dict[int, list] = {}
    for t in trades:
        key = t.ts_ms - t.ts_ms % bucket_ms
        row = out.get(key)
        if row is None:
            out[key] = [t.price, t.price, t.price, t.price, t.qty, 1, t.qty if t.side is Side.BUY else 0.0]
        else:
            row[1] = max(row[1], t.price)
            row[2] = min(row[2], t.price)
            row[3] = t.price
            row[4] += t.qty
            row[5] += 1
            row[6] += t.qty if t.side is Side.BUY else 0.0
    return {k: tuple(v) for k, v in out.items()}


def assert_matches(candle: Candle, expected: tuple) -> None:
    assert (candle.open, candle.high, candle.low, candle.close) == expected[:4]
    assert candle.volume == pytest.approx(expected[4], rel=1e-9, abs=1e-12)
    assert candle.trades == expected[5]
    assert candle.taker_buy_volume == pytest.approx(expected[6], rel=1e-9, abs=1e-12)


T0 = ms("2024-08-09 00:00:00")

trade_lists = st.lists(
    st.tuples(st.integers(0, 600_000), st.integers(1, 10_000), st.integers(1, 1000), st.booleans()),
    min_size=1, max_size=150,
).map(lambda rows: [Trade("X", i, price / 100, qty / 1000, T0 + offset, Side.BUY if buy else Side.SELL)
                    for i, (offset, price, qty, buy) in enumerate(sorted(rows, key=lambda r: r[0]))])


@settings(max_examples=120, deadline=None)
@given(trades=trade_lists)
def test_trades_to_seconds_to_minutes_equals_direct_ohlcv(trades):
    seconds_builder = TradeCandleBuilder("X", "1s", skip_first=False, max_fill=10**6)
    minutes = CandleAggregator("X", "1m", max_fill=10**6)
    seconds: list[Candle] = []
    closed_minutes: list[Candle] = []

    def take(closed):
        for second in closed or ():
            seconds.append(second)
            closed_minutes.extend(minutes.add(second) or ())

    for trade in trades:
        take(seconds_builder.add_trade(trade))
    last_minute = trades[-1].ts_ms - trades[-1].ts_ms % 60_000
    take(seconds_builder.close_until(last_minute + 60_000))

    direct_seconds = direct_ohlcv(trades, 1000)
    direct_minutes = direct_ohlcv(trades, 60_000)
    # 1s: every second from the first trade's to the end of the last minute, no holes
    first_second = trades[0].ts_ms - trades[0].ts_ms % 1000
    assert [c.open_time_ms for c in seconds] == list(range(first_second, last_minute + 60_000, 1000))
    previous_close = None
    for candle in seconds:
        if candle.open_time_ms in direct_seconds:
            assert_matches(candle, direct_seconds[candle.open_time_ms])
        else:  # flat: the previous close, no volume
            assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (previous_close,) * 4 + (0.0,)
        previous_close = candle.close
    # 1m: the first minute is dropped when we joined it after its first second (partial)
    first_minute = trades[0].ts_ms - trades[0].ts_ms % 60_000
    start = first_minute if first_second == first_minute else first_minute + 60_000
    assert [c.open_time_ms for c in closed_minutes] == list(range(start, last_minute + 60_000, 60_000))
    for candle in closed_minutes:
        assert candle.closed
        if candle.open_time_ms in direct_minutes:
            assert_matches(candle, direct_minutes[candle.open_time_ms])
        else:
            assert candle.volume == 0.0 and candle.high == candle.low == candle.open == candle.close


def test_builder_forming_late_and_skip_first():
    builder = TradeCandleBuilder("X", "1s")  # skip_first=True: we joined mid-second
    assert builder.add(T0 + 500, 10.0, 1.0, True) is None
    assert builder.forming() == Candle("X", "1s", T0, 10.0, 10.0, 10.0, 10.0, 1.0, False, 10.0, 1, 1.0)
    assert builder.add(T0 + 900, 11.0, 1.0, False) is None
    assert builder.add(T0 + 1_100, 12.0, 2.0, False) == []  # the first (partial) second is not emitted
    assert builder.add(T0 + 300, 99.0, 1.0, False) is None  # late: not merged
    assert builder.late == 1
    closed = builder.add(T0 + 3_050, 13.0, 1.0, True)
    assert [(c.open_time_ms - T0, c.close, c.volume) for c in closed] == [(1000, 12.0, 2.0), (2000, 12.0, 0.0)]
    assert builder.close_until(T0 + 3_999) == []  # the forming second has not ended
    closed = builder.close_until(T0 + 6_000)
    assert [(c.open_time_ms - T0, c.close, c.volume) for c in closed] == [(3000, 13.0, 1.0), (4000, 13.0, 0.0),
                                                                          (5000, 13.0, 0.0)]
    assert builder.forming() is None


def test_builder_caps_flat_fill():
    builder = TradeCandleBuilder("X", "1s", skip_first=False, max_fill=5)
    builder.add(T0, 1.0, 1.0, True)
    closed = builder.add(T0 + 3_600_000, 2.0, 1.0, True)
    assert len(closed) == 1 + 5
    assert closed[0].open_time_ms == T0 and closed[-1].open_time_ms == T0 + 3_599_000


def test_aggregator_flat_fills_missing_buckets_and_ignores_late():
    agg = CandleAggregator("X", "1m")
    def second(offset_s, price):
        return Candle("X", "1s", T0 + offset_s * 1000, price, price, price, price, 1.0)
    assert agg.add(second(0, 5.0)) is None
    out = agg.add(second(185, 6.0))  # minute 0 closes, minutes 1 and 2 had nothing
    assert [(c.open_time_ms - T0, c.close, c.volume) for c in out] == [(0, 5.0, 1.0), (60_000, 5.0, 0.0),
                                                                       (120_000, 5.0, 0.0)]
    assert agg.add(second(10, 7.0)) is None and agg.late == 1
    closed = agg.add(second(239, 8.0))  # the last second of minute 3 closes it at once
    assert [(c.open_time_ms - T0, c.open, c.close, c.volume) for c in closed] == [(180_000, 6.0, 8.0, 2.0)]
    assert agg.forming() is None


# ---------------------------------------------------------------------------- real recorded data


def load_aggtrades() -> tuple[list[Trade], Counter]:
    trades, raw_counts = [], Counter()
    with AGG_BTC.open() as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            side = Side.SELL if row["is_buyer_maker"] == "true" else Side.BUY
            trade = Trade("BTCUSD", i + 1, float(row["price"]), float(row["qty"]), int(row["trade_time_ms"]), side)
            trades.append(trade)
            raw_counts[trade.ts_ms - trade.ts_ms % 1000] += int(row["n_trades"])
    return trades, raw_counts


def load_klines(name: str) -> list[dict]:
    with (KLINES / name).open() as handle:
        return list(csv.DictReader(handle))


def test_real_aggtrades_rebuild_binance_1s_klines():
    trades, raw_counts = load_aggtrades()
    built = {c.open_time_ms: c for c in candles_from_trades("BTCUSD", trades, "1s") if c.closed}
    agg_counts = Counter(t.ts_ms - t.ts_ms % 1000 for t in trades)
    reference = load_klines("derived_spot_BTCUSDT_1s_20240808T2354-20240809T0005.csv")
    assert len(reference) == 649
    for row in reference:
        candle = built[int(row["open_time_ms"])]
        assert (candle.open, candle.high, candle.low, candle.close) == tuple(
            float(row[k]) for k in ("open", "high", "low", "close"))
        assert candle.volume == pytest.approx(float(row["volume"]), rel=1e-9, abs=1e-12)
        assert candle.quote_volume == pytest.approx(float(row["quote_volume"]), rel=1e-9, abs=1e-9)
        assert candle.taker_buy_volume == pytest.approx(float(row["taker_buy_base"]), rel=1e-9, abs=1e-12)
        # the kline counts raw trades; built from aggTrades we count aggregated ones
        assert raw_counts[candle.open_time_ms] == int(row["trades"])
        assert candle.trades == agg_counts[candle.open_time_ms]


def test_real_1s_candles_rebuild_binance_1m_klines():
    trades, _ = load_aggtrades()
    seconds = [c for c in candles_from_trades("BTCUSD", trades, "1s") if c.closed]
    minutes = {c.open_time_ms: c for c in aggregate_candles("BTCUSD", seconds, "1m") if c.closed}
    reference = load_klines("derived_spot_BTCUSDT_1m_20240808T2354-20240809T0005.csv")
    assert sorted(minutes) == [int(r["open_time_ms"]) for r in reference]  # partial first/last dropped
    for row in reference:
        candle = minutes[int(row["open_time_ms"])]
        assert (candle.open, candle.high, candle.low, candle.close) == tuple(
            float(row[k]) for k in ("open", "high", "low", "close"))
        assert candle.volume == pytest.approx(float(row["volume"]), rel=1e-9)
        assert candle.taker_buy_volume == pytest.approx(float(row["taker_buy_base"]), rel=1e-9)


def snapshot(name: str) -> dict[str, list[Candle]]:
    out: dict[str, list[Candle]] = {}
    for row in load_klines(name):
        out.setdefault(row["interval"], []).append(Candle(
            "X", row["interval"], int(row["open_time_ms"]), float(row["open"]), float(row["high"]),
            float(row["low"]), float(row["close"]), float(row["volume"])))
    return out


@pytest.mark.parametrize("name", ["spot_BTCUSDT_multi-interval_snapshot_20180428.csv",
                                  "spot_ADAUSDT_multi-interval_snapshot_20200424.csv"])
@pytest.mark.parametrize(("small", "large"), [("1d", "1w"), ("1d", "3d"), ("1d", "1M"), ("1h", "4h")])
def test_daily_bars_aggregate_to_binance_weekly_3d_monthly(name, small, large):
    data = snapshot(name)
    for candle in data[large]:
        assert bucket_start_ms(candle.open_time_ms, large) == candle.open_time_ms
    closed_small = data[small][:-1]  # the last bar was still open at capture time
    built = [c for c in aggregate_candles("X", closed_small, large) if c.closed]
    reference = {c.open_time_ms: c for c in data[large]}
    assert len(built) >= 3
    for candle in built:
        expected = reference[candle.open_time_ms]
        assert (candle.open, candle.high, candle.low, candle.close) == (
            expected.open, expected.high, expected.low, expected.close)
        assert candle.volume == pytest.approx(expected.volume, rel=1e-6)


def test_5m_aggregate_exactly_to_1h_on_a_month_of_real_data():
    def load(name):
        return [Candle("X", name.split("_")[2], int(r["open_time_ms"]), float(r["open"]), float(r["high"]),
                       float(r["low"]), float(r["close"]), float(r["volume"])) for r in load_klines(name)]
    fives = load("spot_BTCUSDT_5m_20260314-20260413.csv")
    hours = {c.open_time_ms: c for c in load("spot_BTCUSDT_1h_20260314-20260413.csv")}
    built = [c for c in aggregate_candles("X", fives[:-1], "1h") if c.closed]
    assert len(built) > 700
    for candle in built:
        expected = hours[candle.open_time_ms]
        assert (candle.open, candle.high, candle.low, candle.close) == (
            expected.open, expected.high, expected.low, expected.close)
        assert candle.volume == pytest.approx(expected.volume, rel=1e-9)
