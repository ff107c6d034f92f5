"""AI spend per UTC day as bars, with the daily budget as a dashed line (for /costs)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.ticker import MaxNLocator

from charts.style import PALETTE, Margins, draw_empty_message, draw_header, new_figure, to_png

COST_MARGINS = Margins(left=0.045, right=0.885, bottom=0.14, top=0.84)


def render_daily_spend(days: Sequence[tuple[str, float]], *, daily_budget_usd: float | None = None,
                       title: str = "AI spend per day") -> bytes:
    """PNG of ``(YYYY-MM-DD, usd)`` bars, oldest first; the budget line when given."""
    figure, (axes,) = new_figure(COST_MARGINS)
    total = sum(usd for _, usd in days)
    draw_header(figure, title, f"{len(days)} days (UTC) · total {format_usd(total)}", None)
    if not days:
        axes.set_xticks([])
        axes.set_yticks([])
        draw_empty_message(axes, "no AI calls in this period")
        return to_png(figure)
    positions = list(range(len(days)))
    values = [usd for _, usd in days]
    axes.bar(positions, values, color=PALETTE.equity, width=0.7, zorder=3)
    top = max([*values, daily_budget_usd or 0.0]) or 0.01
    if daily_budget_usd:
        axes.axhline(daily_budget_usd, color=PALETTE.warning, linestyle=(0, (4, 3)), linewidth=1.6, zorder=4)
        axes.text(0.01, daily_budget_usd, f" daily budget {format_usd(daily_budget_usd)}", color=PALETTE.warning,
                  transform=axes.get_yaxis_transform(), va="bottom", ha="left", fontweight="bold")
    axes.set_ylim(0, top * 1.18)
    ticks = [t for t in MaxNLocator(nbins=5).tick_values(0, top * 1.18) if 0 <= t <= top * 1.18]
    axes.set_yticks(ticks, [format_usd(t) for t in ticks])
    step = max(1, len(days) // 10)
    axes.set_xticks(positions[::step], [day[5:] for day, _ in days][::step])
    axes.set_xlim(-0.6, len(days) - 0.4)
    return to_png(figure)


def format_usd(value: float) -> str:
    if value == 0:
        return "$0"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    if abs(value) >= 0.1:
        return f"${value:,.2f}"
    return f"${value:.4f}".rstrip("0").rstrip(".") if abs(value) >= 0.0001 else f"${value:.6f}"
