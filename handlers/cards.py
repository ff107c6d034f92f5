"""Rendering analysis results as Telegram HTML: the signal card, the flow report, the zones table."""

from __future__ import annotations

from core.analysis.orderflow import OrderFlowSummary
from core.analysis.synthesis import Analysis
from core.models import DataSource, Direction, TradePlan, Zone
from handlers.html import esc

ARROW = {Direction.LONG: "🟢 LONG", Direction.SHORT: "🔴 SHORT"}


def px(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def pct(value: float, base: float) -> str:
    return f"{(value - base) / base * 100:+.2f}%" if base else "-"


def confidence_bar(confidence: float, width: int = 10) -> str:
    filled = max(0, min(width, round(confidence / 100 * width)))
    return "▰" * filled + "▱" * (width - filled) + f" {confidence:.0f}%"


def source_badge(source: DataSource) -> str:
    return "" if source is DataSource.LIVE else f" <b>[{source.value}]</b>"


def render_zone(zone: Zone, digits: int) -> str:
    tag = "S" if zone.kind.value == "support" else "R"
    return (f"{tag} {px(zone.low, digits)}–{px(zone.high, digits)} · score {zone.score:.0f} · "
            f"{zone.touches} touches · {','.join(zone.timeframes)}")


def render_plan(plan: TradePlan, digits: int, base_asset: str) -> list[str]:
    targets = " · ".join(f"T{i} {px(t, digits)} ({pct(t, plan.entry)})" for i, t in enumerate(plan.targets, 1))
    lines = [f"Entry <b>{px(plan.entry, digits)}</b>",
             f"Stop {px(plan.stop, digits)} ({pct(plan.stop, plan.entry)})",
             targets,
             f"R:R <b>{plan.risk_reward:.2f}</b>   Confidence {confidence_bar(plan.confidence)}"]
    if plan.size_units > 0:
        lines.append(f"Size {plan.size_units:,.4g} {esc(base_asset)} ({plan.risk_pct:.2g}% risk)")
    return lines


def render_indicators(analysis: Analysis) -> str:
    parts = [f"{s.interval} {s.rsi:.0f} {s.rsi_state}" for s in analysis.timeframes[:4]]
    return "RSI: " + " · ".join(parts) if parts else "RSI: not enough history"


def render_volume(analysis: Analysis) -> str:
    state = analysis.state("1h")
    if state is None:
        return "Volume: no 1h history"
    word = "high" if state.volume_zscore > 2 else "above normal" if state.volume_zscore > 1 else (
        "low" if state.volume_zscore < -1 else "normal")
    obv = "" if state.obv_rising is None else (", OBV rising" if state.obv_rising else ", OBV falling")
    return f"Volume (1h): {word} (z {state.volume_zscore:+.1f}){obv}"


def render_flow_line(flow: OrderFlowSummary | None, no_flow_note: str | None) -> str:
    if flow is None:
        return f"Order flow: {esc(no_flow_note or 'no data yet')}"
    p = flow.pressure
    total = p.buy_notional + p.sell_notional
    buy_share = f"{p.buy_notional / total * 100:.0f}% buy" if total else "no trades"
    whales = sum(count for _, count in flow.whale_counts)
    return (f"Order flow: <b>{flow.verdict.bias}</b> ({flow.verdict.strength:.0f}) · imbalance "
            f"{flow.imbalance:+.2f} · {p.window_s:.0f}s {buy_share} · {whales} large trades")


def render_card(analysis: Analysis, digits: int, base_asset: str, no_flow_note: str | None) -> str:
    head = ARROW.get(analysis.direction, "⏸ NO TRADE") if analysis.plan else "⏸ NO TRADE"
    setup = f" ({esc(analysis.setup_type.replace('_', ' '))})" if analysis.plan else ""
    lines = [f"<b>{analysis.symbol}</b> {head}{setup}{source_badge(analysis.source)}",
             f"Price {px(analysis.price, digits)}"]
    if analysis.plan:
        lines += render_plan(analysis.plan, digits, base_asset)
    elif analysis.rejection:
        lines.append(f"<i>{esc(analysis.rejection)}</i>")
    if analysis.zones:
        lines.append("\n<b>Zones</b>")
        lines += [render_zone(z, digits) for z in analysis.zones[:3]]
    lines += ["", render_volume(analysis), render_indicators(analysis),
              render_flow_line(analysis.order_flow, no_flow_note)]
    if analysis.reasons:
        lines.append("\n<b>Why:</b> " + esc("; ".join(analysis.reasons)) + ".")
    return "\n".join(lines)


def render_flow(analysis: Analysis, digits: int, no_flow_note: str | None, whale_limit: int = 6) -> str:
    flow = analysis.order_flow
    head = f"<b>{analysis.symbol} order flow</b>{source_badge(analysis.source)}"
    if flow is None:
        return f"{head}\n{esc(no_flow_note or 'No order-flow data yet.')}"
    p = flow.pressure
    lines = [head, f"Verdict: <b>{flow.verdict.bias}</b>, strength {flow.verdict.strength:.0f}/100",
             f"Book imbalance (top {flow.imbalance_levels}): {flow.imbalance:+.2f}",
             f"{p.window_s:.0f}s pressure: buy ${p.buy_notional:,.0f} / sell ${p.sell_notional:,.0f} "
             f"(delta ${p.delta_notional:+,.0f}, {p.trade_count} trades)"]
    counts = ", ".join(f"{tier} {n}" for tier, n in flow.whale_counts)
    lines.append(f"Large trades: {counts or 'none'}")
    for w in flow.whales[:whale_limit]:
        lines.append(f"  {w.tier} {w.side.value.upper()} ${w.notional:,.0f} @ {px(w.price, digits)}")
    if flow.voids:
        lines.append("Liquidity voids: " + "; ".join(f"{v.side} {px(v.low, digits)}–{px(v.high, digits)} "
                                                      f"({v.spacing_multiple:.0f}x)" for v in flow.voids[:4]))
    if flow.spikes:
        lines.append("Volume spikes: " + "; ".join(f"{s.interval} z {s.zscore:.1f}" for s in flow.spikes[:4]))
    if flow.verdict.reasons:
        lines.append("\n<b>Why:</b> " + esc("; ".join(flow.verdict.reasons)) + ".")
    return "\n".join(lines)


def render_zones(analysis: Analysis, digits: int, limit: int = 10) -> str:
    head = f"<b>{analysis.symbol} support / resistance</b>{source_badge(analysis.source)}"
    if not analysis.zones:
        return f"{head}\nNo zones with enough touches yet."
    rows = [render_zone(z, digits) + f" ({pct(z.mid, analysis.price)})" for z in analysis.zones[:limit]]
    return "\n".join([head, f"Price {px(analysis.price, digits)}", *rows])
