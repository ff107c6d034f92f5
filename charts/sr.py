"""Support/resistance chart: candles, zone bands labelled with score and touches, price and plan.

Layout: candles on the left, an empty strip on the right holding zone labels (right-aligned) and
plan line names (left-aligned); the price scale on the right carries coloured value tags for the
current price and the plan's entry, stop and targets. Zones far outside the price window are
listed at the top or bottom of the label column with an arrow and their price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.ticker import MaxNLocator

from charts.labels import format_price, price_decimals, spread_positions
from charts.style import (
    FONT,
    LIVE_LABEL,
    PALETTE,
    Margins,
    axes_height_px,
    draw_empty_message,
    draw_header,
    draw_watermark,
    new_figure,
    points_to_px,
    to_png,
)
from charts.time_axis import time_ticks, utc_text
from core.models import CandleArrays, TradePlan, Zone, ZoneKind, interval_ms

SR_MARGINS = Margins(left=0.02, right=0.875, bottom=0.085, top=0.84)
_ZONE_REACH = 0.35  # zones this far (x price span of the candles) outside the window stretch it
_WINDOW_MARGIN = 0.05
_BODY_HALF_WIDTH = 0.34  # candle units
_LABEL_GAP_PT = FONT.label * 1.75  # vertical room one label needs


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
    if max_candles < 1:
        raise ValueError(f"max_candles must be at least 1, got {max_candles}")
    view = candles.tail(max_candles) if len(candles) > max_candles else candles
    levels = _plan_levels(plan)
    if math.isfinite(price):
        levels.append(_Level("", price, PALETTE.price, (0, (1.5, 1.5)), 1.3))
    low, high = _price_window(_core_range(view, levels, zones), zones)

    figure, (axes,) = new_figure(SR_MARGINS)
    count = len(view)
    right_edge = count + max(8.0, 0.3 * count)
    axes.set_xlim(-1.0, right_edge)
    axes.set_ylim(low, high)
    label_gap = points_to_px(_LABEL_GAP_PT) / axes_height_px(axes)

    _draw_zones(axes, zones, low, high, label_gap, max_zone_labels)
    if count:
        _draw_candles(axes, view, min_body=(high - low) * 0.0015)
        _draw_time_axis(axes, view)
    else:
        draw_empty_message(axes, "no candles")
        axes.set_xticks([])
    _draw_levels(axes, levels, low, high, count, label_gap)
    draw_header(figure, title, _info_line(view, plan, subtitle), source_label)
    draw_watermark(axes, source_label)
    return to_png(figure)


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
    span = high - low if high > low else max(abs(high) * 0.01, 1e-6)
    reach_low, reach_high = low - _ZONE_REACH * span, high + _ZONE_REACH * span
    for zone in zones:
        if zone.high >= reach_low and zone.low <= reach_high:
            low = min(low, max(zone.low, reach_low))
            high = max(high, min(zone.high, reach_high))
    if high <= low:
        low, high = low - span / 2.0, high + span / 2.0
    margin = _WINDOW_MARGIN * (high - low)
    return low - margin, high + margin


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
    """Shaded bands (stronger score, stronger shade) and the right-edge label column."""
    visible = [z for z in zones if z.high >= low and z.low <= high and math.isfinite(z.low + z.high)]
    for zone in visible:
        colour = PALETTE.support if zone.kind is ZoneKind.SUPPORT else PALETTE.resistance
        alpha = 0.07 + 0.16 * min(max(zone.score, 0.0), 100.0) / 100.0
        axes.axhspan(zone.low, zone.high, facecolor=colour, alpha=alpha, edgecolor="none", zorder=1)
        axes.axhspan(zone.low, zone.high, facecolor="none", edgecolor=colour, alpha=0.45, linewidth=0.8, zorder=1)
    labelled = sorted(visible, key=lambda z: -z.score)[:max(0, max_labels)]
    decimals = price_decimals((high - low) / 400.0)
    texts = [_zone_text(z) for z in labelled]
    wanted = [((max(z.low, low) + min(z.high, high)) / 2.0 - low) / (high - low) for z in labelled]
    colours = [PALETTE.support if z.kind is ZoneKind.SUPPORT else PALETTE.resistance for z in labelled]
    for side, outside, anchor in (("\u25b2", [z for z in zones if z.low > high], 0.98),
                                  ("\u25bc", [z for z in zones if z.high < low], 0.02)):
        if outside:
            nearest = min(outside, key=lambda z: abs(z.mid - (low + high) / 2.0))
            more = f" +{len(outside) - 1}" if len(outside) > 1 else ""
            texts.append(f"{side} {_zone_text(nearest)} @ {format_price(nearest.mid, decimals)}{more}")
            wanted.append(anchor)
            colours.append(PALETTE.muted)
    placed = spread_positions(wanted, gap, gap / 2.0, 1.0 - gap / 2.0)
    for text, y, colour in zip(texts, placed, colours, strict=True):
        axes.text(0.992, y, text, transform=axes.transAxes, ha="right", va="center", fontsize=FONT.small,
                  fontweight="bold", color=colour, zorder=4,
                  bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"})


def _draw_levels(axes: Axes, levels: Sequence[_Level], low: float, high: float, count: int, gap: float) -> None:
    """Level lines, their names beside the last candle and value tags on the price scale."""
    for level in levels:
        axes.axhline(level.price, color=level.colour, linestyle=level.linestyle, linewidth=level.linewidth,
                     zorder=3)
    named = [level for level in levels if level.name]
    wanted = [(level.price - low) / (high - low) for level in named]
    for level, y in zip(named, spread_positions(wanted, gap, gap / 2.0, 1.0 - gap / 2.0), strict=True):
        axes.annotate(level.name, xy=(count + 0.4, y), xycoords=("data", "axes fraction"), ha="left",
                      va="center", fontsize=FONT.small, fontweight="bold", color=level.colour, zorder=4,
                      bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    _draw_price_scale(axes, levels, low, high, gap)


def _draw_price_scale(axes: Axes, levels: Sequence[_Level], low: float, high: float, gap: float) -> None:
    """Round price ticks on the right, hidden where a coloured value tag sits instead."""
    ticks = [t for t in MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high) if low <= t <= high]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else (high - low) / 5.0
    decimals = price_decimals(step)
    tag_decimals = price_decimals((high - low) / 2000.0)
    tag_y = spread_positions([(level.price - low) / (high - low) for level in levels], gap, gap / 2.0,
                             1.0 - gap / 2.0)
    labels = []
    for tick in ticks:
        y = (tick - low) / (high - low)
        labels.append("" if any(abs(y - other) < gap for other in tag_y) else format_price(tick, decimals))
    axes.set_yticks(ticks, labels)
    for level, y in zip(levels, tag_y, strict=True):
        axes.text(1.006, y, format_price(level.price, tag_decimals), transform=axes.transAxes, ha="left",
                  va="center", fontsize=FONT.tick, fontweight="bold", color="white", zorder=6, clip_on=False,
                  bbox={"boxstyle": "square,pad=0.25", "facecolor": level.colour, "edgecolor": "none"})


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
