"""Indicator states per timeframe and price-action setup detection."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import talib

from core.analysis.setups import NO_SETUP, detect_price_action
from core.analysis.states import IndicatorParams, macd_state, rsi_state, timeframe_state, trend_state
from core.models import CandleArrays, Zone, ZoneKind
from tests.analysis import realdata


@pytest.mark.parametrize("value,state", [
    (75, "overbought"), (70, "overbought"), (60, "bullish"), (50, "neutral"), (44, "bearish"), (30, "oversold"),
    (math.nan, "neutral")])
def test_rsi_state(value, state):
    assert rsi_state(value) == state


@pytest.mark.parametrize("histogram,state", [
    ([-1.0, 2.0], "bullish_cross"), ([1.0, 2.0], "bullish"), ([1.0, -2.0], "bearish_cross"),
    ([-1.0, -2.0], "bearish"), ([0.0, 0.0], "neutral"), ([math.nan], "neutral"), ([3.0], "bullish")])
def test_macd_state(histogram, state):
    assert macd_state(np.array(histogram)) == state


def test_trend_state():
    assert trend_state(110, 105, 100) == "up"
    assert trend_state(90, 95, 100) == "down"
    assert trend_state(101, 99, 100) == "sideways"
    assert trend_state(101, math.nan, 100) == "sideways"


def test_timeframe_state_reads_talib_on_the_last_closed_candles():
    candles = realdata.klines(realdata.BTC_1H_2021)
    params = IndicatorParams()
    state = timeframe_state(candles, params)
    tail = candles.tail(params.calc_candles)
    assert state.rsi == pytest.approx(talib.RSI(tail.close, 14)[-1], rel=1e-12)
    assert state.macd_histogram == pytest.approx(talib.MACD(tail.close)[2][-1], rel=1e-12)
    assert state.ema_slow == pytest.approx(talib.EMA(tail.close, 50)[-1], rel=1e-12)
    assert state.atr == pytest.approx(talib.ATR(tail.high, tail.low, tail.close, 14)[-1], rel=1e-12)
    assert state.close == candles.close[-1] and state.open_time_ms == candles.open_time_ms[-1]
    assert -1.0 <= state.score <= 1.0
    obv = talib.OBV(tail.close, tail.volume)
    assert state.obv_rising == bool(obv[-1] > talib.EMA(obv, 20)[-1])


def test_short_history_gives_unknown_values_not_errors():
    candles = realdata.klines(realdata.BTC_1H_2021).tail(10)
    state = timeframe_state(candles)
    assert math.isnan(state.rsi) and state.macd_state == "neutral" and state.trend == "sideways"
    assert state.obv_rising is None and -1.0 <= state.score <= 1.0


# ---------------------------------------------------------------------------- setups


def candles_from(rows: list[tuple[float, float, float, float]]) -> CandleArrays:
    """1h candles from (open, high, low, close) rows, volume 1."""
    a = np.array(rows, dtype=np.float64)
    n = len(rows)
    return CandleArrays("X", "1h", np.arange(n, dtype=np.int64) * 3_600_000, a[:, 0], a[:, 1], a[:, 2], a[:, 3],
                        np.ones(n))


def state_for(candles: CandleArrays, **changes):
    base = timeframe_state(candles)
    return replace(base, **{"atr": 2.0, **changes})


RESISTANCE = Zone(104.0, 105.0, ZoneKind.RESISTANCE, 3, ("4h",), 60.0)
SUPPORT = Zone(95.0, 96.0, ZoneKind.SUPPORT, 3, ("4h",), 60.0)
FLAT = [(100.0, 101.0, 99.0, 100.0)] * 30


def test_breakout_above_a_zone():
    candles = candles_from(FLAT + [(103.0, 104.5, 102.5, 104.0), (104.0, 106.5, 103.8, 106.0)])
    action = detect_price_action(candles, (RESISTANCE, SUPPORT), state_for(candles))
    assert (action.setup_type, action.direction, action.zone) == ("breakout", 1, RESISTANCE)
    chased = candles_from(FLAT + [(103.0, 104.5, 102.5, 104.0), (104.0, 112.0, 103.8, 111.0)])
    assert detect_price_action(chased, (RESISTANCE,), state_for(chased)).setup_type != "breakout"


def test_breakdown_below_a_zone():
    candles = candles_from(FLAT + [(96.0, 96.5, 95.2, 95.5), (95.5, 95.6, 93.0, 93.5)])
    action = detect_price_action(candles, (RESISTANCE, SUPPORT), state_for(candles))
    assert (action.setup_type, action.direction, action.score) == ("breakout", -1, -1.0)


def test_wick_rejection_of_support_and_resistance():
    support_test = candles_from(FLAT + [(98.0, 98.5, 97.0, 97.5), (97.5, 98.0, 95.5, 97.8)])
    action = detect_price_action(support_test, (SUPPORT,), state_for(support_test))
    assert (action.setup_type, action.direction) == ("zone_rejection", 1)
    resistance_test = candles_from(FLAT + [(102.0, 103.0, 101.5, 102.5), (102.5, 104.6, 102.2, 102.7)])
    action = detect_price_action(resistance_test, (RESISTANCE,), state_for(resistance_test))
    assert (action.setup_type, action.direction) == ("zone_rejection", -1)


def test_trend_pullback_to_the_fast_ema():
    candles = candles_from(FLAT + [(100.5, 101.0, 99.8, 100.8), (100.8, 101.5, 100.1, 101.2)])
    state = state_for(candles, trend="up", ema_fast=100.3)
    action = detect_price_action(candles, (), state)
    assert (action.setup_type, action.direction) == ("trend_pullback", 1)
    down = state_for(candles, trend="down", ema_fast=101.6)
    assert detect_price_action(candles, (), down).direction == -1


def test_nothing_without_a_pattern_or_atr():
    candles = candles_from(FLAT + [(100.0, 101.0, 99.0, 100.0)])
    assert detect_price_action(candles, (RESISTANCE, SUPPORT), state_for(candles)) == NO_SETUP
    assert detect_price_action(candles, (RESISTANCE,), state_for(candles, atr=math.nan)) == NO_SETUP
