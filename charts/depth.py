"""Depth chart: cumulative bid (green) and ask (red) notional from the top-N book, mid price line,
liquidity voids shaded and whale-sized walls marked with their notional."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from charts.labels import format_price, format_usd_compact, price_decimals
from charts.style import (
    FONT,
    LIVE_LABEL,
    PALETTE,
    Margins,
    axes_height_px,
    axes_width_px,
    draw_empty_message,
    draw_header,
    draw_watermark,
    new_figure,
    points_to_px,
    to_png,
)
from charts.time_axis import utc_text
from core.models import BookSnapshot

DEPTH_MARGINS = Margins(left=0.045, right=0.885, bottom=0.085, top=0.84)
DEFAULT_WALL_MEDIAN_MULTIPLE = 3.0
_X_MARGIN = 0.04  # of the price span, beyond the deepest level on each side
_HEADROOM = 1.3  # y top over the largest cumulative notional, leaves room for labels


@dataclass(frozen=True, slots=True)
class _Side:
    """One side of the book as arrays, best level first, with the cumulative notional."""

    prices: np.ndarray
    qtys: np.ndarray
    cumulative_usd: np.ndarray
    colour: str
    direction: int  # -1 for bids (deeper is lower), +1 for asks


@dataclass(frozen=True, slots=True)
class _Wall:
    price: float
    notional_usd: float
    cumulative_before_usd: float
    cumulative_after_usd: float
    colour: str
    is_bid: bool


def render_depth_chart(
    book: BookSnapshot,
    *,
    voids: Sequence[tuple[float, float]] = (),
    wall_qty_threshold: float | None = None,
    title: str,
    source_label: str = LIVE_LABEL,
    wall_median_multiple: float = DEFAULT_WALL_MEDIAN_MULTIPLE,
    max_wall_labels: int = 6,
) -> bytes:
    """PNG of cumulative bid/ask notional against price.

    Walls are levels with qty >= ``wall_qty_threshold`` or, when it is None, with qty above
    ``wall_median_multiple`` x the median level qty of both sides. ``voids`` are (low, high)
    price ranges with thin liquidity, shaded grey. Only the ``max_wall_labels`` largest walls
    get a notional label; every wall gets a marker.
    """
    return to_png(build_depth_figure(book, voids=voids, wall_qty_threshold=wall_qty_threshold, title=title,
                                     source_label=source_label, wall_median_multiple=wall_median_multiple,
                                     max_wall_labels=max_wall_labels))


def build_depth_figure(
    book: BookSnapshot,
    *,
    voids: Sequence[tuple[float, float]] = (),
    wall_qty_threshold: float | None = None,
    title: str,
    source_label: str = LIVE_LABEL,
    wall_median_multiple: float = DEFAULT_WALL_MEDIAN_MULTIPLE,
    max_wall_labels: int = 6,
) -> Figure:
    """The figure ``render_depth_chart`` saves."""
    bids = _side(book.bids, PALETTE.up, -1)
    asks = _side(book.asks, PALETTE.down, +1)
    figure, (axes,) = new_figure(DEPTH_MARGINS)
    draw_header(figure, title, _info_line(book, bids, asks), source_label)
    draw_watermark(axes, source_label)
    if not bids.prices.size and not asks.prices.size:
        draw_empty_message(axes, "order book is empty")
        axes.set_xticks([])
        axes.set_yticks([])
        return figure

    low, high = _price_range(bids, asks)
    top_usd = max(_last(bids.cumulative_usd), _last(asks.cumulative_usd)) * _HEADROOM
    axes.set_xlim(low, high)
    axes.set_ylim(0.0, top_usd)
    _draw_voids(axes, voids, low, high)
    for side in (bids, asks):
        _draw_side(axes, side, low, high)
    if bids.prices.size and asks.prices.size:
        axes.axvline((bids.prices[0] + asks.prices[0]) / 2.0, color=PALETTE.muted, linestyle=(0, (4, 3)),
                     linewidth=1.2, zorder=3)
    walls = _find_walls((bids, asks), wall_qty_threshold, wall_median_multiple)
    _draw_walls(axes, walls, low, high, top_usd, max_wall_labels)
    _draw_totals(axes, bids, asks)
    _draw_scales(axes, low, high, top_usd)
    return figure


# ---------------------------------------------------------------------------- data


def _side(levels: Sequence[tuple[float, float]], colour: str, direction: int) -> _Side:
    array = np.asarray(levels, dtype=np.float64).reshape(-1, 2)
    array = array[np.isfinite(array).all(axis=1) & (array[:, 1] > 0)]
    array = array[np.argsort(direction * array[:, 0], kind="stable")]  # best (nearest the mid) first
    prices, qtys = array[:, 0].copy(), array[:, 1].copy()
    return _Side(prices, qtys, np.cumsum(prices * qtys), colour, direction)


def _last(values: np.ndarray) -> float:
    return float(values[-1]) if values.size else 0.0


def _price_range(bids: _Side, asks: _Side) -> tuple[float, float]:
    prices = np.concatenate([bids.prices, asks.prices])
    low, high = float(prices.min()), float(prices.max())
    span = high - low if high > low else max(abs(high) * 1e-4, 1e-9)
    return low - _X_MARGIN * span, high + _X_MARGIN * span


def _find_walls(sides: Sequence[_Side], qty_threshold: float | None, median_multiple: float) -> list[_Wall]:
    all_qtys = np.concatenate([side.qtys for side in sides])
    if qty_threshold is None:
        is_wall = [side.qtys > median_multiple * float(np.median(all_qtys)) for side in sides]
    else:
        is_wall = [side.qtys >= qty_threshold for side in sides]
    walls = []
    for side, mask in zip(sides, is_wall, strict=True):
        before = np.concatenate([[0.0], side.cumulative_usd[:-1]])
        for i in np.flatnonzero(mask):
            walls.append(_Wall(float(side.prices[i]), float(side.prices[i] * side.qtys[i]), float(before[i]),
                               float(side.cumulative_usd[i]), side.colour, side.direction < 0))
    return walls


def _info_line(book: BookSnapshot, bids: _Side, asks: _Side) -> str:
    parts = [book.symbol, f"{bids.prices.size}\u00d7{asks.prices.size} levels",
             utc_text(book.ts_ms, "%d %b %Y %H:%M:%S UTC")]
    if bids.prices.size and asks.prices.size:
        spread = float(asks.prices[0] - bids.prices[0])
        mid = float(asks.prices[0] + bids.prices[0]) / 2.0
        bps = spread / mid * 1e4 if mid else 0.0
        parts.append(f"spread {format_price(spread, price_decimals(spread) if spread > 0 else 2)} ({bps:.2g} bp)")
    return " \u00b7 ".join(parts)


# ---------------------------------------------------------------------------- drawing


def _draw_side(axes: Axes, side: _Side, low: float, high: float) -> None:
    """A step curve: at each level the cumulative notional jumps; it runs flat out to the edge."""
    if not side.prices.size:
        return
    edge = low if side.direction < 0 else high
    xs = np.concatenate([np.repeat(side.prices, 2), [edge]])
    ys = np.concatenate([[0.0], np.repeat(side.cumulative_usd, 2)])
    axes.fill_between(xs, ys, 0.0, color=side.colour, alpha=0.18, linewidth=0, zorder=2)
    axes.plot(xs, ys, color=side.colour, linewidth=2.2, zorder=3, solid_joinstyle="miter")


def _draw_voids(axes: Axes, voids: Sequence[tuple[float, float]], low: float, high: float) -> None:
    for void_low, void_high in voids:
        start, end = max(min(void_low, void_high), low), min(max(void_low, void_high), high)
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            continue
        axes.axvspan(start, end, facecolor=PALETTE.void, alpha=0.28, edgecolor="none", zorder=1)
        axes.text((start + end) / 2.0, 0.5, "void", transform=axes.get_xaxis_transform(), rotation=90,
                  ha="center", va="center", fontsize=FONT.small, color=PALETTE.muted, fontweight="bold", zorder=4)


def _draw_walls(axes: Axes, walls: Sequence[_Wall], low: float, high: float, top_usd: float,
                max_labels: int) -> None:
    """Every wall as a thick jump with a dot; the largest ones labelled with their notional.

    A bid label sits right of its dot and an ask label left of it (towards the mid), where the
    curve is lower, so labels do not cover the curve; a label that would overlap one already
    placed is lifted above it with a thin leader line.
    """
    for wall in walls:
        axes.plot([wall.price, wall.price], [wall.cumulative_before_usd, wall.cumulative_after_usd],
                  color=wall.colour, linewidth=5, solid_capstyle="butt", zorder=4)
        axes.plot([wall.price], [wall.cumulative_after_usd], marker="o", markersize=8, color=wall.colour,
                  markeredgecolor="white", markeredgewidth=1.5, zorder=5)
    labelled = sorted(walls, key=lambda w: -w.notional_usd)[:max(0, max_labels)]
    width_px, height_px = axes_width_px(axes), axes_height_px(axes)
    label_height = points_to_px(FONT.small * 1.6) / height_px
    offset = points_to_px(7) / width_px
    placed: list[tuple[float, float, float, float]] = []  # label boxes in axes fraction
    for wall in sorted(labelled, key=lambda w: w.cumulative_after_usd):
        text = format_usd_compact(wall.notional_usd)
        width = points_to_px(FONT.small * 0.66 * len(text) + 6) / width_px
        x = (wall.price - low) / (high - low)
        left = x + offset if wall.is_bid else x - offset - width
        wanted = wall.cumulative_after_usd / top_usd - label_height / 2.0
        bottom = _free_bottom(left, width, wanted, label_height, placed)
        placed.append((left, bottom, left + width, bottom + label_height))
        lifted = bottom - wanted > label_height / 2.0
        axes.annotate(text, xy=(wall.price, wall.cumulative_after_usd), xytext=(left, bottom + label_height / 2.0),
                      textcoords="axes fraction", ha="left", va="center", fontsize=FONT.small, fontweight="bold",
                      color=wall.colour, zorder=6,
                      arrowprops={"arrowstyle": "-", "color": wall.colour, "linewidth": 0.9} if lifted else None,
                      bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.9, "edgecolor": "none"})


def _free_bottom(left: float, width: float, bottom: float, height: float,
                 placed: Sequence[tuple[float, float, float, float]]) -> float:
    """The lowest bottom at or above ``bottom`` where the box overlaps none already placed."""
    moved = True
    while moved:
        moved = False
        for x0, y0, x1, y1 in placed:
            if left < x1 and left + width > x0 and bottom < y1 and bottom + height > y0:
                bottom, moved = y1 + 0.005, True
    return bottom


def _draw_totals(axes: Axes, bids: _Side, asks: _Side) -> None:
    for side, x, ha, name in ((bids, 0.015, "left", "Bids"), (asks, 0.985, "right", "Asks")):
        if side.prices.size:
            axes.text(x, 0.965, f"{name} {format_usd_compact(_last(side.cumulative_usd))}", transform=axes.transAxes,
                      ha=ha, va="top", fontsize=FONT.label, fontweight="bold", color=side.colour, zorder=6)


def _draw_scales(axes: Axes, low: float, high: float, top_usd: float) -> None:
    x_ticks = [t for t in MaxNLocator(nbins=7, steps=[1, 2, 5, 10]).tick_values(low, high) if low <= t <= high]
    step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else high - low
    decimals = price_decimals(step)
    axes.set_xticks(x_ticks, [format_price(t, decimals) for t in x_ticks])
    y_ticks = [t for t in MaxNLocator(nbins=5).tick_values(0.0, top_usd) if 0.0 <= t <= top_usd]
    axes.set_yticks(y_ticks, [format_usd_compact(t) for t in y_ticks])
