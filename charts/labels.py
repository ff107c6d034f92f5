"""Number formats and 1-D label placement shared by the charts (pure, no matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def price_decimals(step: float) -> int:
    """Decimals needed to tell apart prices that differ by ``step`` (0 for steps of 1 or more)."""
    if not math.isfinite(step) or step <= 0:
        return 2
    return max(0, min(8, -math.floor(math.log10(step) + 1e-9)))


def format_price(value: float, decimals: int) -> str:
    """``71234.5`` with 1 decimal -> ``"71,234.5"``."""
    return f"{value:,.{decimals}f}"


def format_usd_compact(value: float) -> str:
    """Short money text for labels: ``$950``, ``$12.3k``, ``$20k``, ``$1.25M``, ``$2.1B``."""
    sign = "-" if value < 0 else ""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = size / limit
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            number = f"{scaled:.{digits}f}"
            if "." in number:
                number = number.rstrip("0").rstrip(".")
            return f"{sign}${number}{suffix}"
    return f"{sign}${size:.0f}"


def format_pct(value_pct: float, decimals: int = 1) -> str:
    """Signed percent with a real minus sign: ``+12.3%``, ``−4.5%``."""
    if abs(value_pct) < 0.5 * 10.0 ** -decimals:
        return f"{0.0:.{decimals}f}%"
    text = f"{value_pct:+.{decimals}f}%"
    return text.replace("-", "\u2212")


def spread_positions(desired: Sequence[float], min_gap: float, low: float, high: float) -> list[float]:
    """Move label positions apart so neighbours are at least ``min_gap`` away, staying in [low, high].

    Overlapping labels are merged into clusters centred on their wanted positions (least total
    movement); the result keeps the input order. If the labels cannot fit, they are spaced evenly.
    """
    count = len(desired)
    if count == 0:
        return []
    order = sorted(range(count), key=lambda i: desired[i])
    clusters: list[tuple[float, int, float]] = []  # (start, size, sum of wanted positions)
    for index in order:
        clusters.append((desired[index], 1, desired[index]))
        while len(clusters) > 1:
            start_a, size_a, total_a = clusters[-2]
            start_b, size_b, total_b = clusters[-1]
            if start_a + size_a * min_gap <= start_b + 1e-12:
                break
            size = size_a + size_b
            total = total_a + total_b
            clusters[-2:] = [(total / size - (size - 1) * min_gap / 2.0, size, total)]
    placed = [start + k * min_gap for start, size, _ in clusters for k in range(size)]
    placed = _clamp_run(placed, min_gap, low, high)
    result = [0.0] * count
    for rank, index in enumerate(order):
        result[index] = placed[rank]
    return result


def _clamp_run(placed: list[float], min_gap: float, low: float, high: float) -> list[float]:
    """Push a sorted run of positions inside [low, high] keeping the gaps; spread evenly if too tight."""
    count = len(placed)
    if (count - 1) * min_gap > high - low:
        if count == 1:
            return [(low + high) / 2.0]
        step = (high - low) / (count - 1)
        return [low + k * step for k in range(count)]
    placed = list(placed)
    placed[-1] = min(placed[-1], high)
    for k in range(count - 2, -1, -1):
        placed[k] = min(placed[k], placed[k + 1] - min_gap)
    placed[0] = max(placed[0], low)
    for k in range(1, count):
        placed[k] = max(placed[k], placed[k - 1] + min_gap)
    return placed


def place_near(wanted: Sequence[float], min_gap: float, low: float, high: float,
               max_shift: float) -> list[float | None]:
    """Greedy placement in priority order: each label goes at most ``max_shift`` from where it is
    wanted, at least ``min_gap`` from those already placed, or is dropped (None).

    Unlike ``spread_positions`` no label drifts far from what it names; use it where a missing
    label is better than a misleading one (many overlapping zones).
    """
    placed: list[float] = []
    result: list[float | None] = []
    step = min_gap / 4.0
    for target in wanted:
        target = min(max(target, low), high)
        candidates = [target]
        for k in range(1, int(max_shift / step) + 1):
            candidates += [target + k * step, target - k * step]
        spot = next((y for y in candidates
                     if low <= y <= high and all(abs(y - other) >= min_gap - 1e-12 for other in placed)), None)
        if spot is not None:
            placed.append(spot)
        result.append(spot)
    return result
