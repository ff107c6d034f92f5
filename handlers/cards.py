"""Rendering analysis results as Telegram HTML: the signal card, the flow report, the zones table.

Prices carry the symbol's digits, money is compact ($1.97M, $52.1k), zone distances are to the
nearest edge ("inside" when the price is in the zone). The card lists the zones nearest the price
(resistance above, support below), not the strongest ones anywhere in history, and its "Why" is
one paragraph built from the analysis' components, strongest contribution first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core.analysis.orderflow import OrderFlowSummary
from core.analysis.synthesis import Analysis
from core.models import DataSource, Direction, TradePlan, Zone, ZoneKind
from handlers.card_reasons import render_why
from handlers.html import esc

ARROW = {Direction.LONG: "🟢 LONG", Direction.SHORT: "🔴 SHORT"}
CARD_ZONES_EACH_SIDE = 2


def px(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def pct(value: float, base: float) -> str:
    return f"{(value - base) / base * 100:+.2f}%" if base else "-"


def usd(amount: float, *, signed: bool = False) -> str:
    """Compact dollars: $950, $52.1k, $335k, $1.97M; a minus (or with ``signed`` a plus) before the $."""
    sign = "-" if amount < 0 else "+" if signed else ""
    amount = abs(amount)
    if amount >= 1e6:
        return f"{sign}${amount / 1e6:.2f}M"
    if amount >= 1e5:
        return f"{sign}${amount / 1e3:.0f}k"
    if amount >= 1e3:
        return f"{sign}${amount / 1e3:.1f}k"
    return f"{sign}${amount:.0f}"


def utc_time(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%H:%M:%S UTC")


def confidence_bar(confidence: float, width: int = 10) -> str:
    filled = max(0, min(width, round(confidence / 100 * width)))
    return "▰" * filled + "▱" * (width - filled) + f" {confidence:.0f}%"


def source_badge(source: DataSource) -> str:
    return "" if source is DataSource.LIVE else f" <b>[{source.value}]</b>"


def zone_range(zone: Zone, digits: int) -> str:
    return f"{px(zone.low, digits)}–{px(zone.high, digits)}"


def zone_distance(zone: Zone, price: float) -> str:
    """Signed percent from the price to the zone's nearest edge, "inside", or "at the edge"."""
    if zone.low <= price <= zone.high:
        return "inside"
    edge = zone.low if zone.low > price else zone.high
    return "at the edge" if abs(edge - price) < 5e-5 * price else pct(edge, price)


def render_zone(zone: Zone, digits: int, price: float | None = None) -> str:
    tag = "S" if zone.kind is ZoneKind.SUPPORT else "R"
    where = f" ({zone_distance(zone, price)})" if price else ""
    return (f"{tag} {zone_range(zone, digits)}{where} · score {zone.score:.0f} · "
            f"{zone.touches} touches · {','.join(zone.timeframes)}")


def nearest_zones(zones: tuple[Zone, ...], price: float, each_side: int) -> tuple[list[Zone], list[Zone]]:
    """(resistances, supports): the ``each_side`` nearest of each, both highest price first."""
    def distance(zone: Zone) -> float:
        return max(zone.low - price, price - zone.high, 0.0)

    resistances = sorted((z for z in zones if z.kind is ZoneKind.RESISTANCE), key=distance)[:each_side]
    supports = sorted((z for z in zones if z.kind is ZoneKind.SUPPORT), key=distance)[:each_side]
    return sorted(resistances, key=lambda z: -z.low), sorted(supports, key=lambda z: -z.high)


def render_card_zones(analysis: Analysis, digits: int, each_side: int = CARD_ZONES_EACH_SIDE) -> list[str]:
    resistances, supports = nearest_zones(analysis.zones, analysis.price, each_side)
    lines = [render_zone(z, digits, analysis.price) for z in resistances] or ["R none above the price"]
    return lines + ([render_zone(z, digits, analysis.price) for z in supports] or ["S none below the price"])


def render_plan(plan: TradePlan, digits: int, base_asset: str) -> list[str]:
    targets = " · ".join(f"T{i} {px(t, digits)} ({pct(t, plan.entry)})" for i, t in enumerate(plan.targets, 1))
    stop_atr = f", {plan.risk_per_unit / plan.atr:.1f} ATR" if plan.atr > 0 else ""
    lines = [f"Entry <b>{px(plan.entry, digits)}</b>",
             f"Stop {px(plan.stop, digits)} ({pct(plan.stop, plan.entry)}{stop_atr})",
             targets,
             f"R:R <b>{plan.risk_reward:.2f}</b> to T{plan.reward_target}   "
             f"Confidence {confidence_bar(plan.confidence)}"]
    size = render_size(plan, base_asset)
    return [*lines, size] if size else lines


def render_size(plan: TradePlan, base_asset: str) -> str | None:
    """Lots (and units) and the money at risk in the account currency, or why there is no size."""
    if plan.size_volume > 0:
        units = f"{plan.size_units:,.6g} {esc(base_asset)}"
        amount = units if plan.size_units == plan.size_volume else f"{plan.size_volume:g} lots ({units})"
        return (f"Size <b>{amount}</b> · risk {plan.risk_account:,.2f} {esc(plan.currency)} "
                f"({plan.risk_pct:.2f}% of equity)")
    if plan.size_note:
        return f"Size: none ({esc(plan.size_note)})"
    return None


def render_indicators(analysis: Analysis) -> str:
    parts = [f"{s.interval} {s.rsi:.0f} {s.rsi_state}" for s in analysis.timeframes[:4]]
    return "RSI: " + " · ".join(parts) if parts else "RSI: not enough history"


def render_volume(analysis: Analysis, setup_timeframe: str = "1h") -> str:
    state = analysis.state(setup_timeframe)
    if state is None:
        return f"Volume: no {setup_timeframe} history"
    word = "high" if state.volume_zscore > 2 else "above normal" if state.volume_zscore > 1 else (
        "low" if state.volume_zscore < -1 else "normal")
    obv = "" if state.obv_rising is None else (", OBV rising" if state.obv_rising else ", OBV falling")
    return f"Volume ({setup_timeframe}): {word} (z {state.volume_zscore:+.1f}){obv}"


def render_flow_line(flow: OrderFlowSummary | None, no_flow_note: str | None) -> str:
    if flow is None:
        return f"Order flow: {esc(no_flow_note or 'no data yet')}"
    p = flow.pressure
    total = p.buy_notional + p.sell_notional
    buy_share = f"{p.buy_notional / total * 100:.0f}% buy" if total else "no trades"
    whales = sum(count for _, count in flow.whale_counts)
    return (f"Order flow: <b>{flow.verdict.bias}</b> ({flow.verdict.strength:.0f}) · {imbalance_text(flow)} · "
            f"{p.window_s:.0f}s {buy_share} · {whales} large trades")


def imbalance_text(flow: OrderFlowSummary) -> str:
    return "no book data" if flow.imbalance is None else f"imbalance {flow.imbalance:+.2f}"


_NO_DIRECTION = re.compile(r"^no trade: total score ([+-][\d.]+) is within \+-([\d.]+)")


def render_rejection(analysis: Analysis) -> str:
    """Why there is no plan, in a trader's words (the prefilter's reasons otherwise as they are)."""
    text = analysis.rejection or ""
    if analysis.direction is None:
        text = _NO_DIRECTION.sub(r"No clear direction: signals net \1, inside the ±\2 no-trade band", text)
    else:
        text = f"{analysis.direction.value.capitalize()} idea rejected: {text}"
    return text.replace("+-", "±")


def render_card(analysis: Analysis, digits: int, base_asset: str, no_flow_note: str | None,
                setup_timeframe: str = "1h") -> str:
    """The signal card: head, plan (or why none), nearest zones, indicators, order flow, why."""
    setup = f" · {esc(analysis.setup_type.replace('_', ' '))} · {setup_timeframe}" if analysis.plan else ""
    head = (ARROW.get(analysis.direction, "⏸ NO TRADE") if analysis.plan else "⏸ NO TRADE") + setup
    lines = [f"<b>{analysis.symbol}</b> {head}{source_badge(analysis.source)}",
             f"Price {px(analysis.price, digits)} · {utc_time(analysis.ts_ms)}"]
    if analysis.plan:
        lines += render_plan(analysis.plan, digits, base_asset)
    elif analysis.rejection:
        lines.append(f"<i>{esc(render_rejection(analysis))}</i>")
    if analysis.zones:
        lines.append("\n<b>Zones</b> (nearest)")
        lines += render_card_zones(analysis, digits)
    lines += ["", render_volume(analysis, setup_timeframe), render_indicators(analysis),
              render_flow_line(analysis.order_flow, no_flow_note)]
    why = render_why(analysis, digits, setup_timeframe)
    if why:
        lines.append(f"\n<b>Why:</b> {why}")
    return "\n".join(lines)


def render_flow(analysis: Analysis, digits: int, no_flow_note: str | None, whale_limit: int = 6) -> str:
    flow = analysis.order_flow
    head = f"<b>{analysis.symbol} order flow</b>{source_badge(analysis.source)} · {utc_time(analysis.ts_ms)}"
    if flow is None:
        return f"{head}\n{esc(no_flow_note or 'No order-flow data yet.')}"
    p = flow.pressure
    lines = [head, f"Verdict: <b>{flow.verdict.bias}</b>, strength {flow.verdict.strength:.0f}/100",
             (f"Book imbalance (top {flow.imbalance_levels}): {flow.imbalance:+.2f}" if flow.imbalance is not None
              else "Book: no book data"),
             f"{p.window_s:.0f}s pressure: buy {usd(p.buy_notional)} / sell {usd(p.sell_notional)} "
             f"({p.buy_ratio * 100:.0f}% buy, delta {usd(p.delta_notional, signed=True)}, {p.trade_count} trades)"]
    counts = ", ".join(f"{tier} {n}" for tier, n in flow.whale_counts)
    lines.append(f"Large trades: {counts or 'none'}")
    for w in flow.whales[:whale_limit]:
        lines.append(f"  {utc_time(w.ts_ms)[:8]} {w.tier} {w.side.value.upper()} {usd(w.notional)} "
                     f"@ {px(w.price, digits)}")
    if flow.voids:
        lines.append("Liquidity voids: " + "; ".join(f"{v.side} {px(v.low, digits)}–{px(v.high, digits)} "
                                                      f"({v.spacing_multiple:.0f}x)" for v in flow.voids[:4]))
    if flow.spikes:
        lines.append("Volume spikes: " + "; ".join(f"{s.interval} z {s.zscore:.1f}" for s in flow.spikes[:4]))
    if flow.verdict.reasons:
        lines.append("\n<b>Why:</b> " + esc("; ".join(flow.verdict.reasons)) + ".")
    return "\n".join(lines)


def render_zones(analysis: Analysis, digits: int, limit: int = 10) -> str:
    """The ``limit`` zones nearest the price, highest first, with the price marked between them."""
    head = f"<b>{analysis.symbol} support / resistance</b>{source_badge(analysis.source)}"
    if not analysis.zones:
        return f"{head}\nNo zones with enough touches yet."
    resistances, supports = nearest_zones(analysis.zones, analysis.price, limit)
    nearest = sorted([*resistances, *supports], key=lambda z: max(z.low - analysis.price,
                                                                  analysis.price - z.high, 0.0))[:limit]
    above = [z for z in resistances if z in nearest]
    below = [z for z in supports if z in nearest]
    rows = [render_zone(z, digits, analysis.price) for z in above]
    rows.append(f"▸ price <b>{px(analysis.price, digits)}</b> · {utc_time(analysis.ts_ms)}")
    rows += [render_zone(z, digits, analysis.price) for z in below]
    return "\n".join([head, *rows])
