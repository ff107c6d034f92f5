"""Micro-momentum on real 1 s candles, and the confirmation table."""

from __future__ import annotations

import math
import statistics

import pytest

from core.analysis.momentum import Confirmation, MicroMomentum, MomentumParams, confirm, micro_momentum
from core.analysis.orderflow import OrderFlowVerdict
from core.models import CandleArrays, Direction
from tests.analysis import realdata


def head(candles: CandleArrays, n: int) -> CandleArrays:
    return CandleArrays(candles.symbol, candles.interval, candles.open_time_ms[:n], candles.open[:n],
                        candles.high[:n], candles.low[:n], candles.close[:n], candles.volume[:n])


@pytest.mark.parametrize("name", [realdata.BTC_1S_2024, "derived_spot_ETHUSDT_1s_20240808T2354-20240809T0005.csv"])
def test_micro_momentum_matches_a_direct_computation(name):
    seconds = realdata.klines(name)
    directions = set()
    for end in range(30, len(seconds), 13):
        got = micro_momentum(head(seconds, end))
        closes = seconds.close[:end].tolist()
        ret = (closes[-1] / closes[-11] - 1) * 1e4
        previous = (closes[-11] / closes[-21] - 1) * 1e4
        window = closes[-301:]
        log_returns = [math.log(b / a) for a, b in zip(window, window[1:], strict=False)]
        sigma = statistics.pstdev(log_returns) * math.sqrt(10) * 1e4
        z = ret / sigma if sigma else 0.0
        assert got.return_bps == pytest.approx(ret, abs=1e-4)
        assert got.previous_return_bps == pytest.approx(previous, abs=1e-4)
        assert got.acceleration_bps == pytest.approx(ret - previous, abs=2e-4)
        assert got.zscore == pytest.approx(z, abs=1e-4)
        assert got.direction == (1 if z >= 1 else -1 if z <= -1 else 0)
        directions.add(got.direction)
    assert directions == {-1, 0, 1}


def test_too_few_seconds_give_no_reading():
    seconds = realdata.klines(realdata.BTC_1S_2024)
    assert micro_momentum(head(seconds, 20)) is None
    assert micro_momentum(None) is None
    assert micro_momentum(head(seconds, 21)) is not None
    assert micro_momentum(head(seconds, 200), MomentumParams(horizon_s=100)) is None


def verdict(bias: str) -> OrderFlowVerdict:
    return OrderFlowVerdict(bias, {"bullish": 0.5, "bearish": -0.5}.get(bias, 0.0), 50.0, ())


def micro(direction: int) -> MicroMomentum:
    return MicroMomentum(10, 3.0 * direction, 1.0, 2.0, 1.5 * direction, direction)


@pytest.mark.parametrize("direction,bias,move,expected", [
    (Direction.LONG, "bullish", 1, Confirmation.CONFIRMS),
    (Direction.LONG, "bullish", 0, Confirmation.CONFIRMS),
    (Direction.LONG, "neutral", 1, Confirmation.CONFIRMS),
    (Direction.LONG, "bearish", -1, Confirmation.CONTRADICTS),
    (Direction.LONG, "bearish", 0, Confirmation.CONTRADICTS),
    (Direction.LONG, "bullish", -1, Confirmation.NEUTRAL),
    (Direction.LONG, "neutral", 0, Confirmation.NEUTRAL),
    (Direction.SHORT, "bearish", -1, Confirmation.CONFIRMS),
    (Direction.SHORT, "bullish", 1, Confirmation.CONTRADICTS),
    (Direction.SHORT, "neutral", 1, Confirmation.CONTRADICTS),
])
def test_confirmation_table(direction, bias, move, expected):
    result = confirm(direction, verdict(bias), micro(move))
    assert result.status is expected
    assert result.reasons


def test_nothing_to_confirm_without_a_direction_or_readings():
    assert confirm(None, verdict("bullish"), micro(1)).status is Confirmation.NEUTRAL
    assert confirm(Direction.LONG, None, None).status is Confirmation.NEUTRAL
