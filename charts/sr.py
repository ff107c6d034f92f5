"""Support/resistance chart: candles, zone bands labelled with score and touches, price and plan.

Layout: candles on the left, an empty strip on the right holding the zone labels; the price scale
on the right carries coloured tags for the current price and the plan's entry, stop and targets
(``Entry 71,234``), with a short leader to the line when tags had to move apart. The nearest zone
beyond the price window on each side is noted in a strip at the top or bottom with an arrow and
its price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from charts.labels import format_price, place_near, price_decimals, spread_positions
from charts.style import (
    DPI,
    FIGURE_SIZE_IN,
    FONT,
    LIVE_LABEL,
    PALETTE,
    Margins,
    axes_width_px,
    draw_empty_message,
    draw_header,
    draw_value_tag,
    draw_watermark,
    new_figure,
    points_to_px,
    to_png,
)
from charts.time_axis import time_ticks, utc_text
from core.models import CandleArrays, TradePlan, Zone, ZoneKind, interval_ms

SR_MARGINS = Margins(left=0.04, right=0.875, bottom=0.085, top=0.84)
_ZONE_REACH = 0.35  # zones this far (x price span of the candles) outside the window stretch it
_WINDOW_MARGIN = 0.05
_BODY_HALF_WIDTH = 0.34  # candle units
_LABEL_GAP_PT = FONT.label * 1.75  # vertical room one label needs
_BOLD_CHAR_EM = 0.68  # average width of a bold digit/letter, in font sizes
_TAG_GAP_PT = FONT.tick * 1.6  # vertical room one price tag needs
_TAG_OFFSET_PX = 14.0  # gap between the axis and the price tags (room for leaders)


@dataclass(frozen=True, slots=True)
class _Level:
    """A labelled horizontal line: the current price or one of the plan's levels."""

    name: str
    price: float
    colour: str
    linestyle: str | tuple[float, tuple[float, float]]
    linewidth: float


def render_sr_chart(
    candles: CandleArrays,
    zones: Sequence[Zone],
    *,
    price: float,
    plan: TradePlan | None = None,
    title: str,
    subtitle: str = "",
    max_candles: int = 120,
    source_label: str = LIVE_LABEL,
    max_zone_labels: int = 8,
) -> bytes:
    """PNG of the last ``max_candles`` candles with S/R zones, the current price and the plan.

    ``source_label`` other than "LIVE" (e.g. "SIMULATED", "REPLAY") is shown as a badge and a
    watermark. Only the ``max_zone_labels`` best-scored visible zones get a text label.
    """
    return to_png(build_sr_figure(candles, zones, price=price, plan=plan, title=title, subtitle=subtitle,
                                  max_candles=max_candles, source_label=source_label,
                                  max_zone_labels=max_zone_labels))


def build_sr_figure(
    candles: CandleArrays,
    zones: Sequence[Zone],
    *,
    price: float,
    plan: TradePlan | None = None,
    title: str,
    subtitle: str = "",
    max_candles: int = 120,
    source_label: str = LIVE_LABEL,
    max_zone_labels: int = 8,
) -> Figure:
    """The figure ``render_sr_chart`` saves (for tests and for callers wanting another format)."""
    if max_candles < 1:
        raise ValueError(f"max_candles must be at least 1, got {max_candles}")
    view = candles.tail(max_candles) if len(candles) > max_candles else candles
    levels = _plan_levels(plan)
    if math.isfinite(price):
        levels.append(_Level("", price, PALETTE.price, (0, (1.5, 1.5)), 1.3))
    axes_height = (SR_MARGINS.top - SR_MARGINS.bottom) * FIGURE_SIZE_IN[1] * DPI
    label_gap = points_to_px(_LABEL_GAP_PT) / axes_height
    tag_gap = points_to_px(_TAG_GAP_PT) / axes_height
    low, high = _price_window(_core_range(view, levels, zones), zones)
    low, high = _with_arrow_strips(low, high, zones, label_gap)
    tags = _tag_texts(levels, low, high)
    figure, (axes,) = new_figure(replace(SR_MARGINS, right=_right_edge(tags)))
    count = len(view)
    axes.set_xlim(-1.0, count + max(6.0, 0.2 * count))
    axes.set_ylim(low, high)

    _draw_zones(axes, zones, low, high, label_gap, max_zone_labels)
    if count:
        _draw_candles(axes, view, min_body=(high - low) * 0.0015)
        _draw_time_axis(axes, view)
    else:
        draw_empty_message(axes, "no candles")
        axes.set_xticks([])
    _draw_levels(axes, levels, tags, low, high, tag_gap)
    draw_header(figure, title, _info_line(view, plan, subtitle), source_label)
    draw_watermark(axes, source_label)
    return figure


# ---------------------------------------------------------------------------- price window


def _plan_levels(plan: TradePlan | None) -> list[_Level]:
    if plan is None:
        return []
    levels = [
        _Level("Entry", plan.entry, PALETTE.entry, "solid", 1.8),
        _Level("Stop", plan.stop, PALETTE.stop, (0, (5.0, 3.0)), 1.6),
    ]
    levels += [_Level(f"T{i}", target, PALETTE.target, (0, (5.0, 3.0)), 1.6)
               for i, target in enumerate(plan.targets[:3], start=1)]
    return [level for level in levels if math.isfinite(level.price)]


def _core_range(view: CandleArrays, levels: Sequence[_Level], zones: Sequence[Zone]) -> tuple[float, float]:
    """Lowest and highest price that must be visible: candles, current price and plan levels."""
    values = [level.price for level in levels]
    if len(view):
        lows = view.low[np.isfinite(view.low)]
        highs = view.high[np.isfinite(view.high)]
        if lows.size:
            values.append(float(lows.min()))
        if highs.size:
            values.append(float(highs.max()))
    if not values:
        values = [bound for zone in zones for bound in (zone.low, zone.high) if math.isfinite(bound)]
    if not values:
        return 0.0, 1.0
    return min(values), max(values)


def _price_window(core: tuple[float, float], zones: Sequence[Zone]) -> tuple[float, float]:
    """The y range: the core range, stretched for nearby zones, plus a small margin."""
    low, high = core
    span = high - low if high > low else max(abs(high) * 0.03, 1e-6)
    reach_low, reach_high = low - _ZONE_REACH * span, high + _ZONE_REACH * span
    for zone in zones:
        if zone.high >= reach_low and zone.low <= reach_high:
            low = min(low, max(zone.low, reach_low))
            high = max(high, min(zone.high, reach_high))
    if high <= low:
        low, high = low - span / 2.0, high + span / 2.0
    margin = _WINDOW_MARGIN * (high - low)
    return low - margin, high + margin


def _with_arrow_strips(low: float, high: float, zones: Sequence[Zone], gap: float) -> tuple[float, float]:
    """Add an empty strip (one label high) at the top/bottom when zones lie beyond it, for the arrow note."""
    above = any(zone.low > high for zone in zones)
    below = any(zone.high < low for zone in zones)
    strips = int(above) + int(below)
    if not strips:
        return low, high
    extra = (high - low) * gap / (1.0 - strips * gap)
    return low - extra * below, high + extra * above


# ---------------------------------------------------------------------------- drawing


def _draw_candles(axes: Axes, view: CandleArrays, min_body: float) -> None:
    """All wicks in one LineCollection and all bodies in one PolyCollection (fast for any count)."""
    finite = np.isfinite(view.open) & np.isfinite(view.high) & np.isfinite(view.low) & np.isfinite(view.close)
    x = np.arange(len(view), dtype=np.float64)[finite]
    open_, high, low, close = view.open[finite], view.high[finite], view.low[finite], view.close[finite]
    colours = np.where(close >= open_, PALETTE.up, PALETTE.down).tolist()
    wicks = np.empty((x.size, 2, 2))
    wicks[:, :, 0] = x[:, None]
    wicks[:, 0, 1], wicks[:, 1, 1] = low, high
    axes.add_collection(LineCollection(wicks, colors=colours, linewidths=1.1, zorder=2.2), autolim=False)
    bottom = np.minimum(open_, close)
    top = np.maximum(np.maximum(open_, close), bottom + min_body)
    bodies = np.empty((x.size, 4, 2))
    bodies[:, :, 0] = x[:, None] + np.array([-_BODY_HALF_WIDTH, _BODY_HALF_WIDTH, _BODY_HALF_WIDTH, -_BODY_HALF_WIDTH])
    bodies[:, 0, 1] = bodies[:, 1, 1] = bottom
    bodies[:, 2, 1] = bodies[:, 3, 1] = top
    axes.add_collection(PolyCollection(bodies, facecolors=colours, edgecolors=colours, linewidths=0.5,
                                       zorder=2.3), autolim=False)


def _zone_text(zone: Zone) -> str:
    letter = "S" if zone.kind is ZoneKind.SUPPORT else "R"
    return f"{letter} {zone.score:.0f} \u00b7 {zone.touches}x"


def _draw_zones(axes: Axes, zones: Sequence[Zone], low: float, high: float, gap: float, max_labels: int) -> None:
    """Shaded bands (stronger score, stronger shade) and the right-edge label column.

    Labels go to the best-scored zones first and stay within one label height of their band; a
    zone whose label would not fit there is left unlabelled rather than labelled far away.
    """
    visible = [z for z in zones if z.high >= low and z.low <= high and math.isfinite(z.low + z.high)]
    for zone in visible:
        colour = PALETTE.support if zone.kind is ZoneKind.SUPPORT else PALETTE.resistance
        alpha = 0.07 + 0.16 * min(max(zone.score, 0.0), 100.0) / 100.0
        axes.axhspan(zone.low, zone.high, facecolor=colour, alpha=alpha, edgecolor="none", zorder=1)
        axes.axhspan(zone.low, zone.high, facecolor="none", edgecolor=colour, alpha=0.45, linewidth=0.8, zorder=1)
    labelled = sorted(visible, key=lambda z: -z.score)
    wanted = [((max(z.low, low) + min(z.high, high)) / 2.0 - low) / (high - low) for z in labelled]
    placed = place_near(wanted, gap, gap / 2.0, 1.0 - gap / 2.0, max_shift=0.6 * gap)
    shown = [(zone, want, y) for zone, want, y in zip(labelled, wanted, placed, strict=True)
             if y is not None][:max(0, max_labels)]
    width_px = axes_width_px(axes)
    for zone, want, y in shown:
        colour = PALETTE.support if zone.kind is ZoneKind.SUPPORT else PALETTE.resistance
        text = _zone_text(zone)
        axes.text(0.992, y, text, transform=axes.transAxes, ha="right", va="center",
                  fontsize=FONT.small, fontweight="bold", color=colour, zorder=4,
                  bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
        if abs(y - want) > 0.15 * gap:  # moved off its band: a short leader points back to it
            start = 0.992 - points_to_px(FONT.small * 0.66 * len(text) + 4) / width_px
            axes.plot([start, start - 16 / width_px], [y, want], transform=axes.transAxes, color=colour,
                      linewidth=1.0, alpha=0.8, zorder=4)
    _draw_arrow_notes(axes, zones, low, high, gap)


def _draw_arrow_notes(axes: Axes, zones: Sequence[Zone], low: float, high: float, gap: float) -> None:
    """Zones beyond the window: the nearest one per side, with its price, in the top/bottom strip."""
    decimals = price_decimals((high - low) / 200.0)
    for arrow, outside, y in (("\u25b2", [z for z in zones if z.low > high], 1.0 - gap / 2.0),
                              ("\u25bc", [z for z in zones if z.high < low], gap / 2.0)):
        if not outside:
            continue
        nearest = min(outside, key=lambda z: abs(z.mid - (low + high) / 2.0))
        more = f"  (+{len(outside) - 1} more)" if len(outside) > 1 else ""
        colour = PALETTE.support if nearest.kind is ZoneKind.SUPPORT else PALETTE.resistance
        text = f"{arrow} {_zone_text(nearest)} at {format_price(nearest.mid, decimals)}{more}"
        axes.text(0.01, y, text, transform=axes.transAxes, ha="left", va="center", fontsize=FONT.small,
                  fontweight="bold", color=colour, zorder=4)


def _tag_texts(levels: Sequence[_Level], low: float, high: float) -> list[str | None]:
    """Price-scale tag text per level: ``T1 72,500``; the current price shows the value only, and
    no tag at all when it reads the same as the entry (the entry tag says it already)."""
    decimals = price_decimals((high - low) / 200.0)
    values = [format_price(level.price, decimals) for level in levels]
    entry_values = {value for level, value in zip(levels, values, strict=True) if level.name == "Entry"}
    return [None if not level.name and value in entry_values else f"{level.name} {value}".strip()
            for level, value in zip(levels, values, strict=True)]


def _right_edge(tags: Sequence[str | None]) -> float:
    """Axes right edge (figure fraction) leaving room for the widest tag or tick label."""
    widest_chars = max([8, *(len(tag) for tag in tags if tag)])
    needed_px = points_to_px(FONT.tick * _BOLD_CHAR_EM * widest_chars) + _TAG_OFFSET_PX + 14
    return min(SR_MARGINS.right, 1.0 - needed_px / (FIGURE_SIZE_IN[0] * DPI))


def _draw_levels(axes: Axes, levels: Sequence[_Level], tags: Sequence[str | None], low: float, high: float,
                 gap: float) -> None:
    """Level lines across the chart and their tags on the price scale.

    Tags that had to move apart get a short leader from the line's true height at the axis.
    Round price ticks are hidden where a tag sits.
    """
    for level in levels:
        axes.axhline(level.price, color=level.colour, linestyle=level.linestyle, linewidth=level.linewidth,
                     zorder=3)
    tagged = [(level, tag) for level, tag in zip(levels, tags, strict=True) if tag]
    line_y = [(level.price - low) / (high - low) for level, _ in tagged]
    tag_y = spread_positions(line_y, gap, gap / 2.0, 1.0 - gap / 2.0)
    offset = _TAG_OFFSET_PX / axes_width_px(axes)
    for (level, text), true_y, y in zip(tagged, line_y, tag_y, strict=True):
        draw_value_tag(axes, y, text, level.colour, x_fraction=1.0 + offset)
        if abs(true_y - y) > 0.1 * gap:
            axes.plot([1.0, 1.0 + offset], [true_y, y], transform=axes.transAxes, color=level.colour,
                      linewidth=1.4, clip_on=False, zorder=6)
    ticks = [t for t in MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high) if low <= t <= high]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else (high - low) / 5.0
    decimals = price_decimals(step)
    labels = []
    for tick in ticks:
        y = (tick - low) / (high - low)
        labels.append("" if any(abs(y - other) < gap for other in tag_y) else format_price(tick, decimals))
    axes.set_yticks(ticks, labels)


def _draw_time_axis(axes: Axes, view: CandleArrays) -> None:
    times = view.open_time_ms
    ticks = time_ticks(int(times[0]), int(times[-1]), max_ticks=6)
    positions = np.interp([ts for ts, _ in ticks], times.astype(np.float64), np.arange(len(view), dtype=np.float64))
    axes.set_xticks(positions.tolist(), [label for _, label in ticks])


def _info_line(view: CandleArrays, plan: TradePlan | None, subtitle: str) -> str:
    """Symbol, timeframe and time of the last candle's close, then the plan summary and subtitle."""
    parts = [view.symbol, view.interval]
    if len(view):
        last_ms = int(view.open_time_ms[-1])
        try:
            last_ms += interval_ms(view.interval)
        except ValueError:
            pass
        parts.append(utc_text(last_ms))
    else:
        parts.append("no candles")
    if plan is not None:
        parts.append(f"{plan.direction.value.upper()} \u00b7 R:R {plan.risk_reward:.1f}")
    if subtitle:
        parts.append(subtitle)
    return " \u00b7 ".join(parts)
