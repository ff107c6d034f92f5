"""CandleStore: bounded rings, history merging, derived higher-timeframe bars and forming bars."""

from datetime import UTC, datetime

import pytest

from core.market.candle_store import CandleRing, CandleStore
from core.market.candles import merge_candles
from core.models import Candle


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def bar(interval: str, open_ms: int, price: float, *, spread: float = 1.0, volume: float = 1.0) -> Candle:
    return Candle("X", interval, open_ms, price, price + spread, price - spread, price + spread / 2, volume,
                  True, price * volume, 3, volume / 2)


def minutes_from(start_ms: int, count: int, first_price: float = 100.0) -> list[Candle]:
    return [bar("1m", start_ms + i * 60_000, first_price + i) for i in range(count)]


def assert_same(actual: Candle | None, expected: Candle) -> None:
    """Equal candles, with sums of floats compared approximately (summation order differs)."""
    assert actual is not None
    sums = ("volume", "quote_volume", "taker_buy_volume")
    for name in Candle.__slots__:
        if name in sums:
            assert getattr(actual, name) == pytest.approx(getattr(expected, name), rel=1e-12), name
        else:
            assert getattr(actual, name) == getattr(expected, name), name


def test_ring_push_replace_and_ignore_older():
    ring = CandleRing("X", "1m", 3)
    a, b, c, d = (bar("1m", i * 60_000, 10.0 + i) for i in range(4))
    assert ring.push(a) and ring.push(b)
    assert not ring.push(a)  # older: ignored
    corrected = bar("1m", b.open_time_ms, 50.0)
    assert ring.push(corrected) and not ring.push(b, replace=False)
    assert ring.push(c) and ring.push(d)
    arrays = ring.arrays()
    assert arrays.open_time_ms.tolist() == [60_000, 120_000, 180_000]
    assert arrays.open.tolist() == [50.0, 12.0, 13.0]
    assert ring.candles() == [corrected, c, d]
    assert ring.column("taker_buy_volume").tolist() == [0.5, 0.5, 0.5]


def test_set_history_merges_and_rest_wins():
    store = CandleStore("X", history_capacity=5)
    hour = 3_600_000
    store.on_closed(bar("4h", 0, 1.0))
    store.on_closed(bar("4h", 4 * hour, 2.0))
    store.set_history("4h", [bar("4h", 4 * hour, 20.0), bar("4h", 8 * hour, 30.0),
                             Candle("X", "4h", 12 * hour, 1, 1, 1, 1, 1, closed=False)])
    arrays = store.arrays("4h")
    assert arrays.open_time_ms.tolist() == [0, 4 * hour, 8 * hour]  # the open bar is not stored
    assert arrays.open.tolist() == [1.0, 20.0, 30.0]
    store.set_history("4h", [bar("4h", i * 4 * hour, float(i)) for i in range(10)])
    assert len(store.arrays("4h")) == 5 and store.arrays("4h").open.tolist()[0] == 5.0
    with pytest.raises(ValueError):
        store.set_history("2h", [])


def test_closing_minutes_derive_closed_hour_and_four_hour_bars():
    store = CandleStore("X")
    start = ms("2024-08-09 04:00:00")
    minutes = minutes_from(start, 240)
    for minute in minutes:
        store.on_closed(minute)
    hours = store.arrays("1h")
    assert hours.open_time_ms.tolist() == [start + h * 3_600_000 for h in range(4)]
    for h in range(4):
        expected = merge_candles("X", "1h", start + h * 3_600_000, minutes[h * 60:(h + 1) * 60], closed=True)
        assert_same(store.ring("1h").candles()[h], expected)
    four = store.ring("4h").candles()
    assert len(four) == 1
    assert_same(four[0], merge_candles("X", "4h", start, minutes, closed=True))


def test_no_derived_bar_when_minutes_do_not_cover_the_bucket():
    store = CandleStore("X")
    start = ms("2024-08-09 04:00:00")
    for minute in minutes_from(start + 30 * 60_000, 30):  # joined at 04:30
        store.on_closed(minute)
    assert len(store.arrays("1h")) == 0
    assert store.forming("1h", start + 45 * 60_000) is None  # does not reach 04:00


def test_forming_hour_uses_closed_minutes_plus_forming_minute_and_second():
    store = CandleStore("X")
    start = ms("2024-08-09 10:00:00")
    minutes = minutes_from(start, 30)
    store.set_history("1m", minutes)
    seconds = [Candle("X", "1s", start + 30 * 60_000 + i * 1000, 200.0 + i, 201.0 + i, 199.0 + i, 200.5 + i, 0.1)
               for i in range(5)]
    for second in seconds:
        store.on_closed(second)
    forming_second = Candle("X", "1s", start + 30 * 60_000 + 5000, 300.0, 310.0, 290.0, 305.0, 0.2, closed=False)
    now = start + 30 * 60_000 + 5_400
    candle = store.forming("1h", now, forming_second=forming_second)
    expected = merge_candles("X", "1h", start, [*minutes, *seconds, forming_second], closed=False)
    assert_same(candle, expected)
    assert candle.closed is False and candle.high == 310.0 and candle.close == 305.0
    minute = store.forming("1m", now, forming_second=forming_second)
    assert_same(minute, merge_candles("X", "1m", start + 30 * 60_000, [*seconds, forming_second], closed=False))
    assert store.forming("1s", now, forming_second=forming_second) is forming_second


def test_forming_week_combines_daily_history_and_minutes():
    store = CandleStore("X")
    monday = ms("2024-08-05 00:00:00")
    days = [bar("1d", monday + d * 86_400_000, 100.0 + 10 * d, spread=5.0) for d in range(3)]  # Mon..Wed
    store.set_history("1d", days)
    thursday = monday + 3 * 86_400_000
    minutes = minutes_from(thursday, 10, first_price=50.0)
    store.set_history("1m", minutes)
    week = store.forming("1w", thursday + 10 * 60_000 + 30_000)
    assert_same(week, merge_candles("X", "1w", monday, [*days, *minutes], closed=False))
    assert week.low == 49.0
    month = store.forming("1M", thursday + 10 * 60_000 + 30_000)
    assert month is None  # no data from August 1st


def test_flat_minutes_do_not_set_open_high_low():
    store = CandleStore("X")
    start = ms("2024-08-09 10:00:00")
    flat = Candle("X", "1m", start, 90.0, 90.0, 90.0, 90.0, 0.0)
    traded = bar("1m", start + 60_000, 100.0)
    store.set_history("1m", [flat, traded])
    candle = store.forming("1h", start + 120_500)
    assert (candle.open, candle.high, candle.low) == (traded.open, traded.high, traded.low)


def test_seconds_ring_flat_fills_holes_and_feeds_minutes():
    store = CandleStore("X", seconds_capacity=3600)
    start = ms("2024-08-09 10:00:00")
    store.on_closed(Candle("X", "1s", start, 10.0, 11.0, 9.0, 10.5, 1.0))
    store.on_closed(Candle("X", "1s", start + 59_000, 12.0, 12.0, 12.0, 12.0, 1.0))  # 58 quiet seconds
    seconds = store.arrays("1s")
    assert len(seconds) == 60
    assert seconds.close.tolist()[1:59] == [10.5] * 58 and seconds.volume.tolist()[1:59] == [0.0] * 58
    minutes = store.ring("1m").candles()
    assert [(c.open_time_ms, c.open, c.high, c.low, c.close, c.volume) for c in minutes] == [
        (start, 10.0, 12.0, 9.0, 12.0, 2.0)]


def test_exchange_minute_kline_overrides_derived_minute():
    store = CandleStore("X")
    start = ms("2024-08-09 10:00:00")
    for i in range(60):
        store.on_closed(Candle("X", "1s", start + i * 1000, 10.0, 10.0, 10.0, 10.0, 1.0))
    assert store.ring("1m").last_candle().volume == 60.0
    official = bar("1m", start, 10.0, volume=61.0)
    store.on_closed(official)
    assert store.ring("1m").last_candle() == official


def test_sizes_stay_bounded():
    store = CandleStore("X", seconds_capacity=3600, minutes_capacity=300, history_capacity=4)
    before = store.nbytes()
    start = ms("2024-08-09 00:00:00")
    for minute in minutes_from(start, 600):
        store.on_closed(minute)
    assert store.sizes() == {"1s": 0, "1m": 300, "1h": 4, "4h": 2, "1d": 0, "3d": 0, "1w": 0, "1M": 0}
    assert store.nbytes() == before
    with pytest.raises(ValueError):
        CandleStore("X", seconds_capacity=10)
