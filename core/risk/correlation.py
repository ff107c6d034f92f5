"""Correlation exposure guard: refuse a new position that adds to correlated exposure.

Each open position counts as one unit of risk (positions are sized to the same risk per trade).
The new trade's correlated exposure is the sum over open positions of
``sign(new) * sign(open) * correlation(new symbol, open symbol)``, where the same symbol counts
as correlation 1. Same-direction bets on correlated symbols add up; opposite directions (hedges)
subtract. The trade is refused when the sum exceeds the limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from core.models import Direction, PendingOrder, Position
from core.risk.gates import Allowed, Denied, GateResult

MIN_RETURNS = 20  # fewer aligned returns than this and a correlation is "unknown"


@dataclass(frozen=True, slots=True, eq=False)
class CorrelationMatrix:
    """Pearson correlation of log returns between symbols (arrays aligned at their last close)."""

    symbols: tuple[str, ...]
    values: np.ndarray
    samples: int  # returns used per symbol

    def get(self, first: str, second: str) -> float | None:
        if first == second:
            return 1.0
        try:
            i, j = self.symbols.index(first), self.symbols.index(second)
        except ValueError:
            return None
        return float(self.values[i, j])


def correlation_matrix(closes: Mapping[str, np.ndarray], window: int,
                       min_returns: int = MIN_RETURNS) -> CorrelationMatrix:
    """Correlations over the last ``window`` returns common to all symbols with enough history.

    The close arrays must share an interval and end at the same candle; symbols with fewer than
    ``min_returns`` returns are left out (their correlations are unknown). Flat series count as 0.
    """
    usable = {s: np.asarray(c, dtype=np.float64) for s, c in closes.items() if len(c) > min_returns}
    if not usable:
        return CorrelationMatrix((), np.zeros((0, 0)), 0)
    samples = min(window, *(len(c) - 1 for c in usable.values()))
    returns = np.vstack([np.diff(np.log(c[-(samples + 1):])) for c in usable.values()])
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.corrcoef(returns) if len(usable) > 1 else np.ones((1, 1))
    values = np.nan_to_num(np.atleast_2d(values), nan=0.0)
    np.fill_diagonal(values, 1.0)
    return CorrelationMatrix(tuple(usable), values, samples)


def check_correlation(symbol: str, direction: Direction, open_positions: Iterable[Position | PendingOrder],
                      matrix: CorrelationMatrix, limit: float) -> GateResult:
    """Allowed unless the new trade's correlated exposure (see the module docstring) exceeds ``limit``."""
    exposure, parts, unknown = 0.0, [], []
    for position in open_positions:
        correlation = matrix.get(symbol, position.symbol)
        if correlation is None:
            unknown.append(position.symbol)
            continue
        contribution = direction.sign * position.direction.sign * correlation
        exposure += contribution
        parts.append((contribution, f"{position.direction} {position.symbol} ρ={correlation:.2f}"))
    note = f"correlation unknown for {', '.join(sorted(set(unknown)))}" if unknown else ""
    if exposure > limit:
        biggest = ", ".join(text for _, text in sorted(parts, key=lambda part: -part[0])[:3])
        return Denied(f"{direction} {symbol} adds correlated exposure {exposure:.2f} above the limit "
                      f"{limit:g} ({biggest})", "correlation")
    return Allowed("correlation", note)
