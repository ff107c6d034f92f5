"""Resampling and bucket alignment against Binance's own candles of every interval."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import numpy as np
import pytest

from core.analysis.resample import bucket_open_ms, close_end_ms, closed_count, closed_until, resample
from core.models import CandleArrays
from tests.analysis import realdata


def snapshot(name: str) -> dict[str, CandleArrays]:
    rows: dict[str, list[list[float]]] = {}
    with open(realdata.KLINES / name, newline="") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["interval"], []).append(
                [float(row[k]) for k in ("open_time_ms", "open", "high", "low", "close", "volume")])
    out = {}
    for interval, values in rows.items():
        a = np.array(values)
        out[interval] = CandleArrays("X", interval, a[:, 0].astype(np.int64), *(a[:, i].copy() for i in range(1, 6)))
    return out


@pytest.mark.parametrize("name", ["spot_BTCUSDT_multi-interval_snapshot_20180428.csv",
                                  "spot_ADAUSDT_multi-interval_snapshot_20200424.csv"])
def test_bucket_alignment_matches_binance_for_every_interval(name):
    for interval, candles in snapshot(name).items():
        opens = candles.open_time_ms[1:]  # the first candle can be a listing day
        np.testing.assert_array_equal(bucket_open_ms(opens, interval), opens, err_msg=interval)
        np.testing.assert_array_equal(bucket_open_ms(opens + 1234, interval), opens, err_msg=interval)
        ends = close_end_ms(candles.open_time_ms[:-1], interval)
        following = candles.open_time_ms[1:]
        assert np.all(ends <= following), interval  # a candle ends before the next one opens
        assert np.mean(ends == following) > 0.98, interval  # and exactly then, except at exchange gaps


def test_resampling_1h_reproduces_binance_4h_and_1d():
    data = snapshot("spot_ADAUSDT_multi-interval_snapshot_20200424.csv")
    hourly = data["1h"].until(int(data["1h"].open_time_ms[-1]))  # drop the candle still open at capture
    for interval in ("4h", "1d"):
        built = resample(hourly, interval)
        reference = data[interval]
        index = np.searchsorted(reference.open_time_ms, built.open_time_ms)
        assert len(built) > 10 and np.array_equal(reference.open_time_ms[index], built.open_time_ms)
        for field in ("open", "high", "low", "close"):
            np.testing.assert_array_equal(getattr(built, field), getattr(reference, field)[index], err_msg=field)
        np.testing.assert_allclose(built.volume, reference.volume[index], rtol=1e-9)


def test_resampling_5m_reproduces_the_recorded_1h_file():
    built = resample(realdata.klines(realdata.BTC_5M_2021), "1h")
    hourly = realdata.klines(realdata.BTC_1H_2021)
    index = np.searchsorted(hourly.open_time_ms, built.open_time_ms)
    assert np.array_equal(hourly.open_time_ms[index], built.open_time_ms)
    np.testing.assert_array_equal(built.high, hourly.high[index])
    np.testing.assert_array_equal(built.close, hourly.close[index])


def test_partial_buckets_are_dropped():
    hourly = realdata.klines(realdata.BTC_1H_2021)  # 2020-12-01 00:00 .. 2021-07-17 20:00
    weekly = resample(hourly, "1w")
    monthly = resample(hourly, "1M")
    first_monday = int(datetime(2020, 12, 7, tzinfo=UTC).timestamp() * 1000)
    assert weekly.open_time_ms[0] == first_monday  # the week of 2020-11-30 started before the data
    assert close_end_ms(weekly.open_time_ms[-1:], "1w")[0] <= hourly.open_time_ms[-1] + 3_600_000
    assert [datetime.fromtimestamp(t / 1000, UTC).month for t in monthly.open_time_ms] == [12, 1, 2, 3, 4, 5, 6]
    july = hourly.open_time_ms >= int(datetime(2021, 6, 1, tzinfo=UTC).timestamp() * 1000)
    june = july & (hourly.open_time_ms < int(datetime(2021, 7, 1, tzinfo=UTC).timestamp() * 1000))
    assert monthly.high[-1] == hourly.high[june].max() and monthly.volume[-1] == pytest.approx(hourly.volume[june].sum())


def test_a_31_day_month_is_not_closed_after_30_days():
    """``CandleArrays.until`` uses a nominal 30-day month; closed_until must use the calendar."""
    january = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp() * 1000)
    candles = CandleArrays("X", "1M", np.array([january], np.int64), *(np.ones(1) for _ in range(5)))
    day_30 = january + 30 * 86_400_000
    assert closed_count(candles, day_30) == 0
    assert len(closed_until(candles, day_30)) == 0
    assert closed_count(candles, january + 31 * 86_400_000) == 1
