"""Resolved signals re-decided under other synthesis weights and thresholds (the live shadow evidence).

A ``ScoredSignal`` keeps what its decision was made of: the five component scores (and whether each
was available), the confirmation status and the direction, with its resolved result. Under changed
settings it is re-scored exactly as ``core.analysis.engine`` scores: total = sum(w x score) / sum(w)
over available components with w > 0; a direction when |total| >= ``signal.direction_threshold``;
confidence = 100 x |total|, + ``confirm_bonus`` when confirmed, - ``contradict_penalty`` when
contradicted, clipped to 0..100 and rounded to 0.1. It is taken when the direction is the one it was
traded in and the confidence clears ``risk.min_confidence`` (the one confidence gate). Its result
(entry, stop and exits) is what it was: only weights and thresholds can be re-decided this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.analysis.momentum import Confirmation
from core.analysis.synthesis import COMPONENTS
from core.learning.outcomes import TradeResult
from core.learning.records import ScoredSignal

SUPPORTED = frozenset({
    *(f"signal.weight_{c}" for c in COMPONENTS), "signal.direction_threshold",
    "risk.min_confidence", "signal.confirm_bonus", "signal.contradict_penalty"})
__all__ = ["SUPPORTED", "RescoreEvaluator", "ScoredSignal"]
_CONFIRMATION = {Confirmation.CONFIRMS.value: 1, Confirmation.CONTRADICTS.value: -1}


class RescoreEvaluator:
    """A ``StrategyEvaluator`` over stored signals (see the module docstring)."""

    def __init__(self, signals: Sequence[ScoredSignal], base: Mapping[str, Any]) -> None:
        self._base = dict(base)
        self._signals = list(signals)
        self._ts = np.array([s.ts_ms for s in signals], dtype=np.int64)
        self._direction = np.array([s.direction for s in signals], dtype=np.int64)
        self._scores = np.array([s.scores for s in signals], dtype=np.float64).reshape(-1, len(COMPONENTS))
        self._available = np.array([s.available for s in signals], dtype=bool).reshape(-1, len(COMPONENTS))
        self._confirmation = np.array([_CONFIRMATION.get(s.confirmation, 0) for s in signals], dtype=np.int64)

    def span(self) -> tuple[int, int]:
        if not self._signals:
            return 0, 0
        return int(self._ts.min()), int(self._ts.max())

    def supports(self, name: str) -> bool:
        return name in SUPPORTED and name in self._base

    def taken(self, changes: Mapping[str, Any]) -> np.ndarray:
        """Which signals the settings (base plus ``changes``) would have taken."""
        values = {**self._base, **changes}
        weights = np.array([float(values[f"signal.weight_{c}"]) for c in COMPONENTS])
        used = self._available & (weights > 0)
        denominator = used.astype(np.float64) @ weights
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.where(denominator > 0, (self._scores * used) @ weights / denominator, 0.0)
        threshold = float(values["signal.direction_threshold"])
        direction = np.where((np.abs(total) >= threshold) & (total != 0), np.sign(total), 0).astype(np.int64)
        adjust = np.where(self._confirmation > 0, float(values["signal.confirm_bonus"]),
                          np.where(self._confirmation < 0, -float(values["signal.contradict_penalty"]), 0.0))
        confidence = np.round(np.clip(100.0 * np.abs(total) + adjust, 0.0, 100.0), 1)
        minimum = float(values.get("risk.min_confidence", 0.0))
        return (direction == self._direction) & (confidence >= minimum)

    def results(self, changes: Mapping[str, Any], since_ts_ms: int, until_ts_ms: int) -> list[TradeResult]:
        keep = self.taken(changes) & (self._ts >= since_ts_ms) & (self._ts < until_ts_ms)
        return [self._signals[i].result for i in np.flatnonzero(keep)]
