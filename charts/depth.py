"""Depth chart: cumulative bid/ask curves from the 20-level book, voids and walls marked."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.models import BookSnapshot

BID, ASK, INK = "#1a9850", "#d73027", "#333333"


def render_depth_chart(book: BookSnapshot, *, voids: Sequence[tuple[float, float]] = (),
                       wall_qty_threshold: float | None = None, title: str, source_label: str = "LIVE") -> bytes:
    """PNG of cumulative depth; walls are levels at or above the threshold (default 3x median qty)."""
    fig = Figure(figsize=(9, 5.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    bids = np.array(book.bids, dtype=float).reshape(-1, 2)
    asks = np.array(book.asks, dtype=float).reshape(-1, 2)
    for side, colour, label in ((bids, BID, "bids"), (asks, ASK, "asks")):
        if len(side):
            ax.step(side[:, 0], np.cumsum(side[:, 1]), where="post", color=colour, linewidth=2.2, label=label)
            ax.fill_between(side[:, 0], np.cumsum(side[:, 1]), step="post", color=colour, alpha=0.15)
    qty = np.concatenate([bids[:, 1], asks[:, 1]]) if len(bids) + len(asks) else np.array([])
    threshold = wall_qty_threshold if wall_qty_threshold is not None else (
        3 * float(np.median(qty)) if len(qty) else float("inf"))
    for side, colour in ((bids, BID), (asks, ASK)):
        cumulative = np.cumsum(side[:, 1]) if len(side) else []
        for (price, size), height in zip(side, cumulative, strict=False):
            if size >= threshold:
                ax.annotate(f"wall ${price * size:,.0f}", (price, height), textcoords="offset points",
                            xytext=(0, 8), ha="center", fontsize=11, color=colour, fontweight="bold")
    for low, high in voids:
        ax.axvspan(low, high, color="#fdae61", alpha=0.35)
    if book.mid is not None:
        ax.axvline(book.mid, color=INK, linestyle="--", linewidth=1)
        ax.annotate(f"mid {book.mid:,.2f}", (book.mid, 0), textcoords="offset points", xytext=(4, 6), fontsize=11)
    badge = "" if source_label == "LIVE" else f"  [{source_label}]"
    ax.set_title(title + badge, fontsize=15, fontweight="bold")
    ax.set_xlabel("price", fontsize=12)
    ax.set_ylabel("cumulative size", fontsize=12)
    ax.tick_params(labelsize=11)
    ax.grid(alpha=0.25)
    if len(bids) or len(asks):
        ax.legend(fontsize=12, loc="upper center")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
