"""Indicator state of one timeframe: RSI, MACD, EMA trend, ATR and volume, read as words and a score.

Each timeframe is computed over its last ``calc_candles`` closed candles (500 by default), so the
result depends only on those candles (deterministic, and bounded work per call). Rules:
- RSI(14): >= 70 overbought, >= 55 bullish, <= 30 oversold, <= 45 bearish, else neutral.
- MACD(12, 26, 9): histogram sign change on the last candle is a cross, otherwise its sign.
- Trend: up when close > EMA50 and EMA20 > EMA50, down when both are below, else sideways.
- Score -1..+1 = mean of RSI part ((rsi-50)/20 clipped; +-0.5 when overbought/oversold),
  MACD part (cross +-1, sign +-0.6) and trend part (+-1, sideways 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.analysis import indicators
from core.models import CandleArrays


@dataclass(frozen=True, slots=True)
class IndicatorParams:
    rsi_period: int = 14
    rsi_overbought: float = 70.0
    rsi_oversold: float = 30.0
    rsi_bullish: float = 55.0
    rsi_bearish: float = 45.0
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    ema_fast: int = 20
    ema_slow: int = 50
    atr_period: int = 14
    volume_window: int = 20
    calc_candles: int = 500


@dataclass(frozen=True, slots=True)
class TimeframeState:
    interval: str
    open_time_ms: int  # of the last closed candle
    close: float
    rsi: float
    rsi_state: str  # overbought | bullish | neutral | bearish | oversold
    macd: float
    macd_signal: float
    macd_histogram: float
    macd_state: str  # bullish_cross | bullish | neutral | bearish | bearish_cross
    ema_fast: float
    ema_slow: float
    trend: str  # up | down | sideways
    atr: float
    volume_zscore: float
    obv_rising: bool | None  # OBV above its 20-candle EMA; None when unknown

    @property
    def score(self) -> float:
        """-1 (bearish) .. +1 (bullish) from RSI, MACD and trend; 0 parts where unknown."""
        return (_rsi_part(self) + _MACD_PARTS.get(self.macd_state, 0.0) + _TREND_PARTS[self.trend]) / 3.0


_MACD_PARTS = {"bullish_cross": 1.0, "bullish": 0.6, "bearish": -0.6, "bearish_cross": -1.0}
_TREND_PARTS = {"up": 1.0, "down": -1.0, "sideways": 0.0}


def _rsi_part(state: TimeframeState) -> float:
    if math.isnan(state.rsi):
        return 0.0
    if state.rsi_state == "overbought":
        return 0.5
    if state.rsi_state == "oversold":
        return -0.5
    return max(-1.0, min(1.0, (state.rsi - 50.0) / 20.0))


def rsi_state(value: float, params: IndicatorParams = IndicatorParams()) -> str:
    if math.isnan(value):
        return "neutral"
    if value >= params.rsi_overbought:
        return "overbought"
    if value <= params.rsi_oversold:
        return "oversold"
    if value >= params.rsi_bullish:
        return "bullish"
    if value <= params.rsi_bearish:
        return "bearish"
    return "neutral"


def macd_state(histogram: np.ndarray) -> str:
    last = float(histogram[-1]) if histogram.size else math.nan
    if math.isnan(last):
        return "neutral"
    previous = float(histogram[-2]) if histogram.size > 1 else math.nan
    if last > 0:
        return "bullish_cross" if previous <= 0 else "bullish"
    if last < 0:
        return "bearish_cross" if previous >= 0 else "bearish"
    return "neutral"


def trend_state(close: float, ema_fast: float, ema_slow: float) -> str:
    if math.isnan(ema_slow) or math.isnan(ema_fast):
        return "sideways"
    if close > ema_slow and ema_fast > ema_slow:
        return "up"
    if close < ema_slow and ema_fast < ema_slow:
        return "down"
    return "sideways"


def timeframe_state(candles: CandleArrays, params: IndicatorParams = IndicatorParams()) -> TimeframeState | None:
    """State of the last closed candle of ``candles`` (None for an empty series)."""
    if len(candles) == 0:
        return None
    c = candles.tail(params.calc_candles) if len(candles) > params.calc_candles else candles
    rsi = float(indicators.rsi(c.close, params.rsi_period)[-1]) if len(c) > params.rsi_period else math.nan
    line, signal, histogram = indicators.macd(c.close, params.macd_fast, params.macd_slow, params.macd_signal)
    valid_hist = histogram[~np.isnan(histogram)][-2:]
    ema_fast = float(indicators.ema(c.close, params.ema_fast)[-1]) if len(c) >= params.ema_fast else math.nan
    ema_slow = float(indicators.ema(c.close, params.ema_slow)[-1]) if len(c) >= params.ema_slow else math.nan
    atr = float(indicators.atr(c.high, c.low, c.close, params.atr_period)[-1]) if len(c) > params.atr_period \
        else math.nan
    close = float(c.close[-1])
    return TimeframeState(
        interval=c.interval, open_time_ms=int(c.open_time_ms[-1]), close=close, rsi=rsi,
        rsi_state=rsi_state(rsi, params), macd=float(line[-1]), macd_signal=float(signal[-1]),
        macd_histogram=float(histogram[-1]), macd_state=macd_state(valid_hist), ema_fast=ema_fast,
        ema_slow=ema_slow, trend=trend_state(close, ema_fast, ema_slow), atr=atr,
        volume_zscore=indicators.last_volume_zscore(c.volume, params.volume_window),
        obv_rising=_obv_rising(c, params.volume_window))


def _obv_rising(candles: CandleArrays, period: int) -> bool | None:
    if len(candles) < period + 1:
        return None
    obv = indicators.obv(candles.close, candles.volume)
    return bool(obv[-1] > indicators.ema(obv, period)[-1])
