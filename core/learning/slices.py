"""Results sliced the way a trader thinks, with the significance corrected for how many slices were looked at.

Each slice (a dimension and one of its values, e.g. ``setup_type=breakout``) gets the full
``StrategyMetrics``. Only slices with at least ``learning.min_sample_size`` results are tested: a
two-sided t-test of their mean R against 0. The p-values of all tested slices are corrected together
with Benjamini-Hochberg at ``learning.fdr``; ``compared`` says how many were tested, so a reader knows
how much mining the "significant" label survived.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.learning.intervals import benjamini_hochberg, mean_p_value
from core.learning.metrics import LearningParams, StrategyMetrics, strategy_metrics
from core.learning.outcomes import TradeResult

# The slicing dimensions, as tag names on each result (``core.learning.tags`` writes them).
DIMENSIONS: tuple[str, ...] = (
    "setup_type", "symbol", "direction", "timeframe", "zone", "zone_timeframe", "volume", "rsi_state",
    "order_flow", "liquidity", "poc", "plan", "screener", "validator", "decision")
NONE = "none"  # the value of a dimension a result has no tag for


@dataclass(frozen=True, slots=True)
class Slice:
    dimension: str
    value: str
    metrics: StrategyMetrics
    p_value: float | None  # mean R differs from 0; None when not tested (too small)
    adjusted_p: float | None  # Benjamini-Hochberg
    significant: bool


@dataclass(frozen=True, slots=True)
class SliceReport:
    overall: StrategyMetrics
    slices: tuple[Slice, ...]  # by dimension (in DIMENSIONS order), then most results first
    compared: int  # slices tested together (the m of the correction)
    discoveries: int
    fdr: float

    def dimension(self, name: str) -> tuple[Slice, ...]:
        return tuple(s for s in self.slices if s.dimension == name)

    def find(self, dimension: str, value: str) -> Slice | None:
        return next((s for s in self.slices if s.dimension == dimension and s.value == value), None)


def slice_report(results: Sequence[TradeResult], params: LearningParams = LearningParams(), *,
                 dimensions: Iterable[str] = DIMENSIONS, skip_single: bool = True) -> SliceReport:
    """Metrics per slice plus the overall ones. With ``skip_single`` a dimension with one value only
    (every result on one symbol, say) is left out: it would repeat the overall figures."""
    groups: list[tuple[str, str, list[TradeResult]]] = []
    for dimension in dimensions:
        by_value: dict[str, list[TradeResult]] = {}
        for result in results:
            by_value.setdefault(result.tag(dimension) or NONE, []).append(result)
        if skip_single and len(by_value) < 2:
            continue
        for value, members in sorted(by_value.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            groups.append((dimension, value, members))
    metrics = [strategy_metrics(members, params, label=f"{dimension}={value}") for dimension, value, members in groups]
    p_values = [mean_p_value([t.r for t in members]) if m.meaningful else None
                for (_, _, members), m in zip(groups, metrics, strict=True)]
    tested = [i for i, p in enumerate(p_values) if p is not None]
    found, adjusted = benjamini_hochberg([p_values[i] for i in tested], params.fdr)  # type: ignore[misc]
    significant = dict(zip(tested, found, strict=True))
    adjusted_by = dict(zip(tested, adjusted, strict=True))
    slices = tuple(Slice(dimension, value, m, p_values[i], adjusted_by.get(i), significant.get(i, False))
                   for i, ((dimension, value, _), m) in enumerate(zip(groups, metrics, strict=True)))
    return SliceReport(strategy_metrics(results, params), slices, len(tested), sum(found), params.fdr)
