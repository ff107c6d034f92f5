"""The token-lean market summary the AI stages read: one line per topic, numbers at the symbol's precision.

Plan, score components, indicators across timeframes, the nearest zones, order flow, micro-momentum,
the broker basis and the latest whales; nothing about the account, the user or the chat. Lines are
short key/value runs (a model reads them as well as prose at a fraction of the tokens).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.analysis.synthesis import Analysis
from core.models import Zone, ZoneKind

ZONES_EACH_SIDE = 2
WHALES_SHOWN = 3
TIMEFRAMES_SHOWN = ("1h", "4h", "1d", "1w")
_COMPONENT_TAGS = {"price_action": "pa", "momentum": "mom", "volume": "vol", "sr": "sr", "order_flow": "flow"}
_MACD = {"bullish_cross": "x+", "bullish": "+", "neutral": "0", "bearish": "-", "bearish_cross": "x-"}


@dataclass(frozen=True, slots=True)
class SummaryContext:
    """What the summary needs beyond the analysis itself."""

    price_digits: int
    basis_bps: float | None = None  # broker price vs the analysis price, when known
    min_risk_reward: float = 1.5


def market_summary(analysis: Analysis, context: SummaryContext) -> str:
    """The compact text block the screener and the validator both read (it goes last in the prompt)."""
    digits = context.price_digits
    lines = [_head(analysis, digits), _plan(analysis, digits, context.min_risk_reward), _components(analysis),
             _timeframes(analysis, digits), _zones(analysis.zones, analysis.price, digits), _flow(analysis),
             _micro(analysis)]
    if context.basis_bps is not None:
        lines.append(f"basis {context.basis_bps:+.1f}bps (broker vs feed)")
    lines.append(_whales(analysis, digits))
    return "\n".join(line for line in lines if line)


def _p(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def _head(analysis: Analysis, digits: int) -> str:
    when = datetime.fromtimestamp(analysis.ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%MZ")
    return f"{analysis.symbol} {when} price {_p(analysis.price, digits)} data {analysis.source.value}"


def _plan(analysis: Analysis, digits: int, min_rr: float) -> str:
    plan = analysis.plan
    if plan is None:
        return f"plan none: {analysis.rejection or 'no direction'}"
    atr = f" ({plan.risk_per_unit / plan.atr:.1f}ATR)" if plan.atr > 0 else ""
    targets = "/".join(_p(t, digits) for t in plan.targets)
    return (f"plan {plan.direction.value} {plan.setup_type} {plan.timeframe} entry {_p(plan.entry, digits)} "
            f"stop {_p(plan.stop, digits)}{atr} targets {targets} rr {plan.risk_reward:.2f} (min {min_rr:g}) "
            f"conf {plan.confidence:.0f} atr {_p(plan.atr, digits)}")


def _components(analysis: Analysis) -> str:
    parts = [f"{_COMPONENT_TAGS.get(c.name, c.name)} {c.score:+.2f}" if c.available
             else f"{_COMPONENT_TAGS.get(c.name, c.name)} n/a" for c in analysis.components]
    confirm = analysis.confirmation.status.value
    return f"score {analysis.total_score:+.2f}: {' '.join(parts)}; flow+micro {confirm}"


def _timeframes(analysis: Analysis, digits: int) -> str:
    parts = []
    for state in analysis.timeframes:
        if state.interval not in TIMEFRAMES_SHOWN:
            continue
        rsi = "-" if math.isnan(state.rsi) else f"{state.rsi:.0f}"
        atr = "-" if math.isnan(state.atr) else _p(state.atr, digits)
        vol = "" if math.isnan(state.volume_zscore) else f" vz{state.volume_zscore:+.1f}"
        parts.append(f"{state.interval} rsi{rsi} macd{_MACD.get(state.macd_state, '0')} {state.trend} atr{atr}{vol}")
    return "tf " + " | ".join(parts) if parts else "tf none"


def _zones(zones: Sequence[Zone], price: float, digits: int) -> str:
    def distance(zone: Zone) -> float:
        return max(zone.low - price, price - zone.high, 0.0)

    picked = []
    for kind, tag in ((ZoneKind.RESISTANCE, "R"), (ZoneKind.SUPPORT, "S")):
        nearest = sorted((z for z in zones if z.kind is kind), key=distance)[:ZONES_EACH_SIDE]
        for zone in nearest:
            edge = zone.low if kind is ZoneKind.RESISTANCE else zone.high
            away = "in" if zone.low <= price <= zone.high else f"{(edge - price) / price * 100:+.2f}%"
            picked.append(f"{tag} {_p(zone.low, digits)}-{_p(zone.high, digits)} {away} s{zone.score:.0f} "
                          f"t{zone.touches} {','.join(zone.timeframes)}")
    return "zones " + " | ".join(picked) if picked else "zones none"


def _flow(analysis: Analysis) -> str:
    flow = analysis.order_flow
    if flow is None:
        return "flow n/a"
    p = flow.pressure
    whales = " ".join(f"{tier}{count}" for tier, count in flow.whale_counts if count) or "0"
    return (f"flow {flow.verdict.bias} {flow.verdict.strength:.0f} imb{flow.imbalance:+.2f} "
            f"{p.window_s:.0f}s buy{p.buy_ratio * 100:.0f}% delta{_usd(p.delta_notional)} "
            f"trades{p.trade_count} whales {whales}")


def _micro(analysis: Analysis) -> str:
    micro = analysis.micro
    if micro is None:
        return ""
    return f"micro {micro.horizon_s}s {micro.return_bps:+.1f}bps z{micro.zscore:+.1f} {micro.label}"


def _whales(analysis: Analysis, digits: int) -> str:
    flow = analysis.order_flow
    if flow is None or not flow.whales:
        return ""
    parts = [f"{datetime.fromtimestamp(w.ts_ms / 1000, UTC):%H:%M:%S} {w.side.value} {_usd(w.notional, sign=False)} "
             f"@{_p(w.price, digits)}" for w in flow.whales[:WHALES_SHOWN]]
    return "whales " + "; ".join(parts)


def _usd(amount: float, *, sign: bool = True) -> str:
    prefix = "-" if amount < 0 else "+" if sign else ""
    amount = abs(amount)
    if amount >= 1e6:
        return f"{prefix}${amount / 1e6:.1f}M"
    if amount >= 1e3:
        return f"{prefix}${amount / 1e3:.0f}k"
    return f"{prefix}${amount:.0f}"
