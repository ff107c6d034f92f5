"""Equity curve over time with an optional drawdown panel (percent below the running peak)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from charts.labels import format_pct, format_price, price_decimals
from charts.style import (
    FONT,
    PALETTE,
    Margins,
    draw_empty_message,
    draw_header,
    draw_value_tag,
    draw_watermark,
    new_figure,
    to_png,
)
from charts.time_axis import time_ticks, utc_text

EQUITY_MARGINS = Margins(left=0.045, right=0.875, bottom=0.085, top=0.84, row_gap=0.06)
_HOUR_MS = 3_600_000


def render_equity_chart(
    points: Sequence[tuple[int, float]],
    *,
    title: str,
    drawdown: bool = True,
    source_label: str | None = None,
) -> bytes:
    """PNG of equity against time from ``(ts_ms, equity)`` points (any order; non-finite dropped).

    With ``drawdown`` a lower panel shows the percent below the running peak and marks the
    deepest point. ``source_label`` (e.g. "PAPER", "SIMULATED") adds the badge; None shows none.
    """
    return to_png(build_equity_figure(points, title=title, drawdown=drawdown, source_label=source_label))


def build_equity_figure(
    points: Sequence[tuple[int, float]],
    *,
    title: str,
    drawdown: bool = True,
    source_label: str | None = None,
) -> Figure:
    """The figure ``render_equity_chart`` saves."""
    series = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    series = series[np.isfinite(series).all(axis=1)]
    series = series[np.argsort(series[:, 0], kind="stable")]
    times, equity = series[:, 0], series[:, 1]
    figure, axes_list = new_figure(EQUITY_MARGINS, (3.0, 1.1) if drawdown else (1.0,))
    draw_watermark(axes_list[0], source_label)
    if not times.size:
        draw_header(figure, title, "no equity points", source_label)
        for axes in axes_list:
            axes.set_xticks([])
            axes.set_yticks([])
        draw_empty_message(axes_list[0], "no equity points yet")
        return figure

    peak = np.maximum.accumulate(equity)
    drawdown_pct = np.where(peak > 0, (equity / np.where(peak > 0, peak, 1.0) - 1.0) * 100.0, 0.0)
    draw_header(figure, title, _info_line(times, equity, drawdown_pct), source_label)
    _draw_equity(axes_list[0], times, equity)
    if drawdown:
        _draw_drawdown(axes_list[1], times, drawdown_pct)
    _draw_time_axis(axes_list, times)
    return figure


def _draw_equity(axes: Axes, times: np.ndarray, equity: np.ndarray) -> None:
    low, high = float(equity.min()), float(equity.max())
    span = high - low if high > low else max(abs(high) * 0.02, 1.0)
    low, high = low - 0.08 * span, high + 0.08 * span
    axes.set_ylim(low, high)
    axes.axhline(float(equity[0]), color=PALETTE.muted, linestyle=(0, (2, 3)), linewidth=1.1, zorder=2)
    axes.fill_between(times, equity, low, color=PALETTE.equity, alpha=0.10, linewidth=0, zorder=2)
    axes.plot(times, equity, color=PALETTE.equity, linewidth=2.4, zorder=3,
              marker="o" if times.size == 1 else None, markersize=8)
    ticks = [t for t in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high) if low <= t <= high]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else span
    decimals = price_decimals(step)
    last_y = (float(equity[-1]) - low) / (high - low)
    tag_gap = 0.09
    axes.set_yticks(ticks, ["" if abs((t - low) / (high - low) - last_y) < tag_gap else format_price(t, decimals)
                            for t in ticks])
    tag_decimals = 0 if abs(float(equity[-1])) >= 10_000 else 2
    draw_value_tag(axes, last_y, format_price(float(equity[-1]), tag_decimals), PALETTE.equity)


def _draw_drawdown(axes: Axes, times: np.ndarray, drawdown_pct: np.ndarray) -> None:
    deepest = int(np.argmin(drawdown_pct))
    floor = min(float(drawdown_pct[deepest]), -1.0)
    axes.set_ylim(floor * 1.25, -floor * 0.1)
    axes.fill_between(times, drawdown_pct, 0.0, color=PALETTE.down, alpha=0.25, linewidth=0, zorder=2)
    axes.plot(times, drawdown_pct, color=PALETTE.down, linewidth=1.6, zorder=3)
    axes.axhline(0.0, color=PALETTE.spine, linewidth=1.0, zorder=2)
    ticks = [t for t in MaxNLocator(nbins=2).tick_values(floor * 1.25, 0.0) if floor * 1.25 <= t <= 0.0]
    axes.set_yticks(ticks, [format_pct(t, 0).lstrip("+") for t in ticks])
    axes.text(0.01, 0.1, "drawdown", transform=axes.transAxes, ha="left", va="bottom", fontsize=FONT.small,
              color=PALETTE.muted, fontweight="bold")
    if drawdown_pct[deepest] < 0:
        axes.plot([times[deepest]], [drawdown_pct[deepest]], marker="o", markersize=7, color=PALETTE.down, zorder=4)
        axes.annotate(f"max {format_pct(float(drawdown_pct[deepest]))}", xy=(times[deepest], drawdown_pct[deepest]),
                      xytext=(8, 0), textcoords="offset points", ha="left", va="center", fontsize=FONT.small,
                      fontweight="bold", color=PALETTE.down, zorder=5)


def _draw_time_axis(axes_list: Sequence[Axes], times: np.ndarray) -> None:
    start, end = int(times[0]), int(times[-1])
    if end == start:
        axes_list[0].set_xlim(start - _HOUR_MS, end + _HOUR_MS)
    else:
        margin = (end - start) * 0.01
        axes_list[0].set_xlim(start - margin, end + margin)
    ticks = time_ticks(start, end, max_ticks=6)
    for axes in axes_list:
        axes.set_xticks([ts for ts, _ in ticks], [label for _, label in ticks])
    for axes in axes_list[:-1]:
        axes.tick_params(labelbottom=False)


def _money_decimals(value: float) -> int:
    return 0 if abs(value) >= 100_000 else 2


def _info_line(times: np.ndarray, equity: np.ndarray, drawdown_pct: np.ndarray) -> str:
    first, last = float(equity[0]), float(equity[-1])
    decimals = _money_decimals(max(abs(first), abs(last)))
    first_day, last_day = utc_text(int(times[0]), "%d %b %Y"), utc_text(int(times[-1]), "%d %b %Y")
    parts = [first_day if first_day == last_day else f"{first_day} \u2192 {last_day}",
             f"{format_price(first, decimals)} \u2192 {format_price(last, decimals)}"]
    if first > 0:
        parts[-1] += f" ({format_pct((last / first - 1.0) * 100.0)})"
    parts.append(f"max DD {format_pct(float(drawdown_pct.min()))}")
    return " \u00b7 ".join(parts)
