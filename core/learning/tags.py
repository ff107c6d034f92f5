"""The slicing dimensions of a signal, read from its analysis: the same tags for shadow and backtest trades.

- setup_type, symbol, direction, timeframe: from the plan.
- zone: ``at_zone`` when the nearest zone's edge is within ``AT_ZONE_ATR`` ATRs of the price (or the
  price is inside it), else ``away``; zone_timeframe: the heaviest timeframe of that zone (``none`` away).
- volume: ``confirmed`` when the volume component points the plan's way, else ``unconfirmed``.
- rsi_state: RSI of the setup timeframe (overbought ... oversold).
- order_flow: the order-flow verdict ``agrees`` / ``disagrees`` / ``neutral`` with the direction, or
  ``none`` without order flow.
Screener, validator and the trader's decision are added by whoever learns them (the shadow book).
"""

from __future__ import annotations

from core.analysis.levels import distance_to_zone
from core.analysis.synthesis import Analysis
from core.models import TradePlan

AT_ZONE_ATR = 0.5

Tags = tuple[tuple[str, str], ...]


def signal_tags(analysis: Analysis, plan: TradePlan) -> Tags:
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
    )
