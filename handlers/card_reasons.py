"""The card's "Why" paragraph: each component of the analysis in a trader's words, with the
symbol's price digits, strongest contribution first (the order the engine weighs them in)."""

from __future__ import annotations

from core.analysis.levels import nearest_resistance, nearest_support
from core.analysis.momentum import Confirmation
from core.analysis.synthesis import Analysis, ComponentScore
from core.models import Zone
from handlers.html import esc

MOMENTUM_TIMEFRAMES = ("1h", "4h", "1d")
COMPONENT_LABELS = {"price_action": "price action", "momentum": "momentum", "volume": "volume",
                    "sr": "S/R", "order_flow": "order flow"}


def arrow(score: float) -> str:
    return "▲" if score > 0 else "▼" if score < 0 else "·"


def _range(zone: Zone, digits: int) -> str:
    return f"{zone.low:,.{digits}f}–{zone.high:,.{digits}f}"


def price_action_text(analysis: Analysis, digits: int, timeframe: str) -> str:
    action = analysis.price_action
    state = analysis.state(timeframe)
    up = action.direction > 0
    if action.setup_type == "breakout" and action.zone is not None and state is not None:
        return (f"{timeframe} close {state.close:,.{digits}f} broke {'above' if up else 'below'} "
                f"{_range(action.zone, digits)}")
    if action.setup_type == "zone_rejection" and action.zone is not None:
        return (f"{timeframe} candle rejected {_range(action.zone, digits)} with a long "
                f"{'lower' if up else 'upper'} wick")
    if action.setup_type == "trend_pullback" and state is not None:
        held = "pulled back to EMA20 and held" if up else "rallied to EMA20 and failed"
        return f"{timeframe} {'up' if up else 'down'}trend {held} ({state.ema_fast:,.{digits}f})"
    if action.setup_type == "none":
        return f"no breakout, rejection or pullback on the last {timeframe} candle"
    return action.reason


def momentum_text(analysis: Analysis) -> str:
    states = [s for s in (analysis.state(i) for i in MOMENTUM_TIMEFRAMES) if s is not None]
    if not states:
        return "no momentum data"
    names = "/".join(s.interval for s in states)
    return (f"{names} RSI {'/'.join(f'{s.rsi:.0f}' for s in states)}, trend {'/'.join(s.trend for s in states)}, "
            f"MACD {'/'.join(s.macd_state.replace('_', ' ') for s in states)}")


def volume_text(analysis: Analysis, timeframe: str) -> str:
    state = analysis.state(timeframe)
    if state is None:
        return "not enough volume history"
    obv = "" if state.obv_rising is None else f", OBV {'rising' if state.obv_rising else 'falling'}"
    return f"{timeframe} z {state.volume_zscore:+.1f}{obv}"


def sr_text(analysis: Analysis, digits: int) -> str:
    support, resistance = nearest_support(analysis.zones), nearest_resistance(analysis.zones)
    parts = [f"{label} {_range(zone, digits)} (score {zone.score:.0f})" if zone else f"no {label} {where}"
             for label, zone, where in (("support", support, "below"), ("resistance", resistance, "above"))]
    return " vs ".join(parts)


def order_flow_text(analysis: Analysis) -> str:
    flow = analysis.order_flow
    if flow is None:
        return "no order flow"
    first = f": {flow.verdict.reasons[0]}" if flow.verdict.reasons else ""
    return f"{flow.verdict.bias} ({flow.verdict.strength:.0f}){first}"


def component_text(component: ComponentScore, analysis: Analysis, digits: int, timeframe: str) -> str:
    name = component.name
    if name == "price_action":
        return price_action_text(analysis, digits, timeframe)
    if name == "momentum":
        return momentum_text(analysis)
    if name == "volume":
        return volume_text(analysis, timeframe)
    if name == "sr":
        return sr_text(analysis, digits)
    if name == "order_flow":
        return order_flow_text(analysis)
    return component.reasons[0] if component.reasons else ""


def headline(analysis: Analysis) -> str:
    total = analysis.total_score
    if analysis.direction is None:
        return f"Signals net {total:+.2f}, no clear direction"
    text = f"Signals net {total:+.2f}, {analysis.direction.value}"
    status = analysis.confirmation.status
    if status is Confirmation.CONFIRMS:
        text += ", confirmed by order flow and short-term momentum"
    elif status is Confirmation.CONTRADICTS:
        text += ", contradicted by order flow and short-term momentum"
    return text


def render_why(analysis: Analysis, digits: int, timeframe: str = "1h") -> str:
    """One escaped paragraph: the headline, then each available component, strongest first."""
    used = sorted((c for c in analysis.components if c.available), key=lambda c: -abs(c.weight * c.score))
    parts = [f"{COMPONENT_LABELS.get(c.name, c.name)} {arrow(c.score)} "
             f"{component_text(c, analysis, digits, timeframe)}" for c in used]
    body = "; ".join(parts)
    return esc(headline(analysis) + (". " + body[:1].upper() + body[1:] if body else "") + ".")
