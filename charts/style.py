"""Phone-readable look shared by every chart: size, fonts, palette, header, badge and PNG output.

Everything is passed to matplotlib as explicit arguments (no rcParams, no pyplot), so a render
never changes matplotlib's global state. Figures are 9 x 5.5 in at 120 dpi (1080 x 660 px).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FIGURE_SIZE_IN: tuple[float, float] = (9.0, 5.5)
DPI = 120
LIVE_LABEL = "LIVE"


@dataclass(frozen=True, slots=True)
class Palette:
    background: str = "#ffffff"
    text: str = "#111827"
    muted: str = "#6b7280"
    grid: str = "#e5e7eb"
    spine: str = "#cbd5e1"
    up: str = "#16a34a"
    down: str = "#dc2626"
    support: str = "#16a34a"
    resistance: str = "#dc2626"
    price: str = "#111827"
    entry: str = "#2563eb"
    stop: str = "#dc2626"
    target: str = "#047857"
    equity: str = "#2563eb"
    warning: str = "#d97706"
    void: str = "#94a3b8"


@dataclass(frozen=True, slots=True)
class FontSizes:
    title: float = 18.0
    info: float = 13.0
    tick: float = 13.0
    label: float = 13.0
    small: float = 12.0
    badge: float = 14.0
    watermark: float = 60.0


PALETTE = Palette()
FONT = FontSizes()


@dataclass(frozen=True, slots=True)
class Margins:
    """Axes area as figure fractions (left/right/bottom/top edges) and the gap between rows."""

    left: float = 0.025
    right: float = 0.885
    bottom: float = 0.085
    top: float = 0.835
    row_gap: float = 0.08


def new_figure(margins: Margins = Margins(), height_ratios: Sequence[float] = (1.0,)) -> tuple[Figure, list[Axes]]:
    """A white 1080x660 px figure with an Agg canvas and one styled axes per height ratio."""
    figure = Figure(figsize=FIGURE_SIZE_IN, dpi=DPI, facecolor=PALETTE.background)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(
        len(height_ratios), 1, height_ratios=list(height_ratios),
        left=margins.left, right=margins.right, bottom=margins.bottom, top=margins.top,
        hspace=margins.row_gap,
    )
    axes_list: list[Axes] = []
    for row in range(len(height_ratios)):
        axes = figure.add_subplot(grid[row, 0], sharex=axes_list[0] if axes_list else None)
        style_axes(axes)
        axes_list.append(axes)
    return figure, axes_list


def style_axes(axes: Axes) -> None:
    """Light grid, thin spines, large tick labels, price scale on the right."""
    axes.set_facecolor(PALETTE.background)
    axes.grid(True, color=PALETTE.grid, linewidth=0.8)
    axes.set_axisbelow(True)
    for name, spine in axes.spines.items():
        spine.set_color(PALETTE.spine)
        spine.set_visible(name in ("bottom", "right"))
    axes.yaxis.tick_right()
    axes.tick_params(labelsize=FONT.tick, colors=PALETTE.text, length=4, width=0.8, color=PALETTE.spine)


def draw_header(figure: Figure, title: str, info: str, source_label: str | None = LIVE_LABEL) -> None:
    """Bold title and a grey info line at the top left; the data-source badge at the top right.

    "LIVE" gets a small green dot; any other label (SIMULATED, REPLAY, PAPER...) an amber badge;
    None no badge at all.
    """
    figure.text(0.025, 0.965, title, fontsize=FONT.title, fontweight="bold", color=PALETTE.text,
                ha="left", va="top")
    figure.text(0.025, 0.895, info, fontsize=FONT.info, color=PALETTE.muted, ha="left", va="top")
    if source_label is None:
        return
    label = str(source_label).upper()
    if label == LIVE_LABEL:
        figure.text(0.975, 0.962, "\u25cf LIVE", fontsize=FONT.small, color=PALETTE.up, fontweight="bold",
                    ha="right", va="top")
        return
    figure.text(0.975, 0.962, label, fontsize=FONT.badge, fontweight="bold", color="white", ha="right", va="top",
                bbox={"boxstyle": "round,pad=0.35", "facecolor": PALETTE.warning, "edgecolor": "none"})


def draw_watermark(axes: Axes, source_label: str | None) -> None:
    """A large faint diagonal source name across the plot when the data is not live."""
    label = str(source_label).upper()
    if source_label is None or label == LIVE_LABEL:
        return
    axes.text(0.5, 0.5, label, transform=axes.transAxes, fontsize=FONT.watermark, fontweight="bold",
              color=PALETTE.warning, alpha=0.10, rotation=20, ha="center", va="center", zorder=0.5)


def draw_value_tag(axes: Axes, y_fraction: float, text: str, colour: str, x_fraction: float = 1.006) -> None:
    """A filled tag on the right-hand price scale (white bold text), drawn over the tick labels."""
    axes.text(x_fraction, y_fraction, text, transform=axes.transAxes, ha="left", va="center", fontsize=FONT.tick,
              fontweight="bold", color="white", zorder=6, clip_on=False,
              bbox={"boxstyle": "square,pad=0.25", "facecolor": colour, "edgecolor": "none"})


def draw_empty_message(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, fontsize=FONT.label, color=PALETTE.muted,
              ha="center", va="center")


def axes_height_px(axes: Axes) -> float:
    return axes.get_position().height * FIGURE_SIZE_IN[1] * DPI


def axes_width_px(axes: Axes) -> float:
    return axes.get_position().width * FIGURE_SIZE_IN[0] * DPI


def points_to_px(points: float) -> float:
    return points * DPI / 72.0


def to_png(figure: Figure) -> bytes:
    """Render the figure with Agg and return the PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=figure.get_facecolor(),
                   metadata={"Software": None})
    return buffer.getvalue()
