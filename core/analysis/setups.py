"""Price-action setups on the last closed candle of the setup timeframe (default 1h).

Checked in this order, zones nearest the close first; the first match wins:
- breakout (score +-1.0): the previous close was at or below a zone's top and the last close is
  above it, by at most 1.5 ATR (further is a chase, not a setup); mirrored below a zone's bottom.
- zone_rejection (+-0.8): the last candle's low reached into a zone (low <= zone top), it closed
  above the zone's middle after the previous close was above the zone's bottom, and its lower
  wick is at least 40 % of its range; mirrored for upper wicks at a zone.
- trend_pullback (+-0.6): the timeframe trends up, the last low came within 0.25 ATR of EMA20
  and the close is back above it; mirrored in a downtrend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.analysis.states import TimeframeState
from core.models import CandleArrays, Zone


@dataclass(frozen=True, slots=True)
class SetupParams:
    wick_ratio: float = 0.4
    breakout_max_atr: float = 1.5
    pullback_atr: float = 0.25
    score_breakout: float = 1.0
    score_rejection: float = 0.8
    score_pullback: float = 0.6


@dataclass(frozen=True, slots=True)
class PriceAction:
    setup_type: str  # breakout | zone_rejection | trend_pullback | none
    direction: int  # +1 long, -1 short, 0 none
    score: float  # -1..+1
    reason: str
    zone: Zone | None = None


NO_SETUP = PriceAction("none", 0, 0.0, "no breakout, zone rejection or pullback on the last candle")


def detect_price_action(candles: CandleArrays, zones: tuple[Zone, ...], state: TimeframeState | None,
                        params: SetupParams = SetupParams()) -> PriceAction:
    """The setup formed by the last closed candle of ``candles`` (all closed), or ``NO_SETUP``."""
    if len(candles) < 2 or state is None or math.isnan(state.atr) or state.atr <= 0:
        return NO_SETUP
    o, h, lo, c = (float(x[-1]) for x in (candles.open, candles.high, candles.low, candles.close))
    previous = float(candles.close[-2])
    nearest = sorted(zones, key=lambda z: (abs(z.mid - c), z.low))
    for zone in nearest:
        found = _breakout(zone, previous, c, state.atr, params, candles.interval)
        if found:
            return found
    for zone in nearest:
        found = _rejection(zone, previous, o, h, lo, c, params, candles.interval)
        if found:
            return found
    return _pullback(state, lo, h, c, params) or NO_SETUP


def _breakout(zone: Zone, previous: float, close: float, atr: float, params: SetupParams,
              interval: str) -> PriceAction | None:
    limit = params.breakout_max_atr * atr
    if previous <= zone.high < close <= zone.high + limit:
        return PriceAction("breakout", 1, params.score_breakout,
                           f"{interval} close {close:g} broke above zone {zone.low:g}-{zone.high:g}", zone)
    if previous >= zone.low > close >= zone.low - limit:
        return PriceAction("breakout", -1, -params.score_breakout,
                           f"{interval} close {close:g} broke below zone {zone.low:g}-{zone.high:g}", zone)
    return None


def _rejection(zone: Zone, previous: float, o: float, h: float, lo: float, c: float, params: SetupParams,
               interval: str) -> PriceAction | None:
    candle_range = h - lo
    if candle_range <= 0:
        return None
    lower_wick, upper_wick = min(o, c) - lo, h - max(o, c)
    if lo <= zone.high and c > zone.mid and previous > zone.low and lower_wick >= params.wick_ratio * candle_range:
        return PriceAction("zone_rejection", 1, params.score_rejection,
                           f"{interval} candle rejected zone {zone.low:g}-{zone.high:g} (wick {lower_wick:g})", zone)
    if h >= zone.low and c < zone.mid and previous < zone.high and upper_wick >= params.wick_ratio * candle_range:
        return PriceAction("zone_rejection", -1, -params.score_rejection,
                           f"{interval} candle rejected zone {zone.low:g}-{zone.high:g} (wick {upper_wick:g})", zone)
    return None


def _pullback(state: TimeframeState, lo: float, h: float, c: float, params: SetupParams) -> PriceAction | None:
    ema, reach = state.ema_fast, params.pullback_atr * state.atr
    if math.isnan(ema):
        return None
    if state.trend == "up" and lo <= ema + reach and c > ema:
        return PriceAction("trend_pullback", 1, params.score_pullback,
                           f"{state.interval} uptrend pulled back to the fast EMA {ema:g} and held")
    if state.trend == "down" and h >= ema - reach and c < ema:
        return PriceAction("trend_pullback", -1, -params.score_pullback,
                           f"{state.interval} downtrend rallied to the fast EMA {ema:g} and failed")
    return None
