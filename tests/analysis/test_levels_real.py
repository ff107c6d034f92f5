"""S/R zones on the real 2020-21 BTCUSDT 1h and 5m history: touches checked independently, no look-ahead."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from core.analysis.levels import LevelParams, ZoneMemo, find_zones, rank_zones, zone_candidates
from core.models import CandleArrays, ZoneKind
from tests.analysis import realdata
from tests.analysis.zone_reference import (
    PARAMS,
    htf_from,
    last_close,
    reference_swings,
    reference_tolerance,
    reference_touches,
)


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


EVAL_TIMES = (ms(2021, 3, 1, 12), ms(2021, 5, 19, 15), ms(2021, 7, 10, 0))


# ---------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def hourly():
    return realdata.klines(realdata.BTC_1H_2021)


@pytest.fixture(scope="module")
def five_minute():
    return realdata.klines(realdata.BTC_5M_2021)


@pytest.mark.parametrize("ts_ms", EVAL_TIMES)
@pytest.mark.parametrize("source_name", ["hourly", "five_minute"])
def test_zone_touches_and_timeframes_match_an_independent_count(request, source_name, ts_ms):
    htf = htf_from(request.getfixturevalue(source_name), ts_ms)
    price = last_close(htf, ts_ms)
    zones = find_zones(htf, price, ts_ms, LevelParams(max_zones=100))
    assert len(zones) >= 3
    swings = reference_swings(htf, ts_ms)
    tolerance = reference_tolerance(htf, ts_ms)
    for zone in zones:
        inside = [s for s in swings if zone.low <= s[3] <= zone.high]
        assert zone.touches == reference_touches(inside) >= PARAMS.min_touches
        assert set(zone.timeframes) == {s[0] for s in inside}
        assert min(s[3] for s in inside) == zone.low and max(s[3] for s in inside) == zone.high
        assert zone.high - zone.low <= tolerance + 1e-9
        assert zone.kind is (ZoneKind.SUPPORT if price >= zone.mid else ZoneKind.RESISTANCE)
        assert 0.0 <= zone.score <= 100.0
    assert [z.score for z in zones] == sorted((z.score for z in zones), reverse=True)


def test_every_swing_lands_in_exactly_one_cluster(hourly):
    ts_ms = EVAL_TIMES[1]
    htf = htf_from(hourly, ts_ms)
    candidates = zone_candidates(htf, ts_ms, LevelParams(min_touches=1))
    clustered = sorted((s.interval, s.open_time_ms, s.price, s.is_high) for c in candidates for s in c.swings)
    reference = sorted((s[0], s[1], s[3], s[4]) for s in reference_swings(htf, ts_ms))
    assert clustered == reference
    assert all(a.high < b.low for a, b in zip(candidates, candidates[1:], strict=False))


@pytest.mark.parametrize("ts_ms", EVAL_TIMES)
def test_appending_future_candles_never_changes_zones(hourly, five_minute, ts_ms):
    for source in (hourly, five_minute):
        past_only = htf_from(source, ts_ms)
        with_future = htf_from(source)  # the whole history, months past ts_ms
        price = last_close(past_only, ts_ms)
        assert len(with_future["1h"]) > len(past_only["1h"])
        zones_past = find_zones(past_only, price, ts_ms)
        assert zones_past == find_zones(with_future, price, ts_ms)
        for candidate in zone_candidates(with_future, ts_ms):
            assert all(s.end_ms <= ts_ms for s in candidate.swings)


def test_zones_move_only_when_a_candle_closes(hourly):
    htf = htf_from(hourly)
    ts_ms = EVAL_TIMES[0]
    inside_hour = [find_zones(htf, 45_000.0, ts_ms + offset) for offset in (0, 60_000, 3_599_999)]
    assert inside_hour[0] == inside_hour[1] == inside_hour[2]


def test_memo_reuses_zones_until_a_higher_timeframe_candle_closes(hourly):
    htf = htf_from(hourly)
    memo = ZoneMemo()
    ts_ms = EVAL_TIMES[2]
    first = memo.zones("BTCUSDT", htf, 33_000.0, ts_ms)
    again = memo.zones("BTCUSDT", htf, 34_000.0, ts_ms + 1_800_000)  # same closed candles, new price
    assert (memo.misses, memo.hits) == (1, 1)
    assert again == find_zones(htf, 34_000.0, ts_ms)
    assert first == rank_zones(zone_candidates(htf, ts_ms), 33_000.0)
    memo.zones("BTCUSDT", htf, 34_000.0, ts_ms + 3_600_000)  # the next 1h candle closed
    assert memo.misses == 2
    memo.zones("ETHUSDT", htf, 34_000.0, ts_ms)  # another symbol never shares an entry
    assert memo.misses == 3


def test_params_change_the_result_as_documented(hourly):
    ts_ms = EVAL_TIMES[1]
    htf = htf_from(hourly, ts_ms)
    price = last_close(htf, ts_ms)
    default = zone_candidates(htf, ts_ms)
    strict = zone_candidates(htf, ts_ms, LevelParams(min_touches=4))
    assert all(c.touches >= 4 for c in strict) and len(strict) < len(default)
    narrow = zone_candidates(htf, ts_ms, LevelParams(tolerance_pct=0.3, atr_tolerance_mult=0.0))
    assert all(c.high - c.low <= price * 0.003 + 1e-9 for c in narrow)
    no_daily = LevelParams(timeframe_weights=(("1h", 2.0), ("4h", 3.0)))
    assert all(set(c.timeframes) <= {"1h", "4h"} for c in zone_candidates(htf, ts_ms, no_daily))


def test_empty_or_too_short_history_gives_no_zones():
    empty = CandleArrays("X", "1h", np.empty(0, np.int64), *(np.empty(0) for _ in range(5)))
    assert find_zones({"1h": empty}, 100.0, 10**13) == ()
    short = realdata.klines(realdata.BTC_1H_2021).tail(5)
    assert find_zones({"1h": short}, 30_000.0, 10**13) == ()


def test_memo_notices_a_closed_candle_repaired_in_place(hourly):
    htf = htf_from(hourly, EVAL_TIMES[2])
    memo = ZoneMemo()
    memo.zones("BTCUSDT", htf, 33_000.0, EVAL_TIMES[2])
    one_hour = htf["1h"]
    high = one_hour.high.copy()
    high[-10] *= 1.05  # Binance's candle replaces a derived one with a higher high
    repaired = {**htf, "1h": CandleArrays(one_hour.symbol, "1h", one_hour.open_time_ms, one_hour.open, high,
                                          one_hour.low, one_hour.close, one_hour.volume)}
    assert memo.zones("BTCUSDT", repaired, 33_000.0, EVAL_TIMES[2]) == find_zones(repaired, 33_000.0, EVAL_TIMES[2])
    assert memo.misses == 2
