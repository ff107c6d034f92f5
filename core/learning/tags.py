"""The slicing dimensions of a signal, read from its analysis: the same tags for shadow and backtest trades.

- setup_type, symbol, direction, timeframe: from the plan.
- zone: ``at_zone`` when the nearest zone's edge is within ``AT_ZONE_ATR`` ATRs of the price (or the
  price is inside it), else ``away``; zone_timeframe: the heaviest timeframe of that zone (``none`` away).
- volume: ``confirmed`` when the volume component points the plan's way, else ``unconfirmed``.
- rsi_state: RSI of the setup timeframe (overbought ... oversold).
- order_flow: the order-flow verdict ``agrees`` / ``disagrees`` / ``neutral`` with the direction, or
  ``none`` without order flow.
- liquidity: ``whales_with`` / ``whales_against`` when whale orders lean with or against the trade,
  else ``void_ahead`` when the book has a liquidity void on the side the trade moves into, else
  ``quiet``; ``none`` without order flow.
- poc: where the price sits against the point of control (the price bin with the most volume) of
  the last ``POC_CANDLES`` setup candles: ``at_poc`` within ``AT_ZONE_ATR`` ATRs, ``poc_behind`` when
  the trade moves away from it (a long above it), ``poc_ahead`` when towards it; ``unknown`` without
  candles.
Screener, validator and the trader's decision are added by whoever learns them (the shadow book).
"""

from __future__ import annotations

import numpy as np

from core.analysis.levels import distance_to_zone
from core.analysis.orderflow import OrderFlowSummary
from core.analysis.synthesis import Analysis
from core.models import CandleArrays, Side, TradePlan

AT_ZONE_ATR = 0.5
POC_CANDLES = 100
POC_BINS = 50

Tags = tuple[tuple[str, str], ...]


def signal_tags(analysis: Analysis, plan: TradePlan, setup_candles: CandleArrays | None = None) -> Tags:
    price, sign = analysis.price, plan.direction.sign
    nearest = min(analysis.zones, key=lambda z: distance_to_zone(z.low, z.high, price), default=None)
    at_zone = nearest is not None and plan.atr > 0 and \
        distance_to_zone(nearest.low, nearest.high, price) <= AT_ZONE_ATR * plan.atr
    volume = next((c for c in analysis.components if c.name == "volume"), None)
    state = analysis.state(plan.timeframe)
    flow = analysis.order_flow
    if flow is None:
        agreement = "none"
    else:
        vote = flow.verdict.sign * sign
        agreement = "agrees" if vote > 0 else "disagrees" if vote < 0 else "neutral"
    return (
        ("setup_type", plan.setup_type or "unspecified"), ("symbol", plan.symbol),
        ("direction", plan.direction.value), ("timeframe", plan.timeframe),
        ("zone", "at_zone" if at_zone else "away"),
        ("zone_timeframe", nearest.timeframes[0] if at_zone and nearest and nearest.timeframes else "none"),
        ("volume", "confirmed" if volume is not None and volume.available and volume.score * sign > 0
         else "unconfirmed"),
        ("rsi_state", state.rsi_state if state is not None else "unknown"),
        ("order_flow", agreement),
        ("liquidity", liquidity_tag(flow, sign)),
        ("poc", poc_tag(setup_candles, price, plan.atr, sign)),
    )


def liquidity_tag(flow: OrderFlowSummary | None, sign: int) -> str:
    if flow is None:
        return "none"
    net = sum(w.notional if w.side is Side.BUY else -w.notional for w in flow.whales)
    if net * sign > 0:
        return "whales_with"
    if net * sign < 0:
        return "whales_against"
    ahead = "ask" if sign > 0 else "bid"
    return "void_ahead" if any(v.side == ahead for v in flow.voids) else "quiet"


def point_of_control(candles: CandleArrays, bins: int = POC_BINS) -> float | None:
    """The middle of the price bin holding the most volume (typical prices of the candles)."""
    if len(candles) == 0 or not float(candles.volume.sum()) > 0:
        return None
    typical = (candles.high + candles.low + candles.close) / 3.0
    low, high = float(candles.low.min()), float(candles.high.max())
    if not high > low:
        return low
    counts, edges = np.histogram(typical, bins=bins, range=(low, high), weights=candles.volume)
    top = int(np.argmax(counts))
    return float(edges[top] + edges[top + 1]) / 2.0


def poc_tag(candles: CandleArrays | None, price: float, atr: float, sign: int) -> str:
    poc = point_of_control(candles.tail(POC_CANDLES)) if candles is not None and len(candles) else None
    if poc is None:
        return "unknown"
    if atr > 0 and abs(price - poc) <= AT_ZONE_ATR * atr:
        return "at_poc"
    return "poc_behind" if sign * (price - poc) > 0 else "poc_ahead"
