"""Micro-momentum from 1 s candles, and whether the short-term flow confirms a setup.

- Return over the horizon (default 10 s): close now vs close ``horizon`` candles ago, in bps;
  the previous return is the same over the horizon before that; acceleration = the difference.
- Z-score = return / (std of 1 s log returns over the last 300 s x sqrt(horizon)); direction is
  +1 / -1 when |z| >= 1, else 0.
- Confirmation of a direction: order-flow bias and micro direction each vote with, against or
  neither; any vote against and none with is CONTRADICTS, votes with and none against is
  CONFIRMS, otherwise NEUTRAL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from core.analysis.orderflow import OrderFlowVerdict
from core.models import CandleArrays, Direction


@dataclass(frozen=True, slots=True)
class MomentumParams:
    horizon_s: int = 10
    volatility_window_s: int = 300
    threshold_z: float = 1.0


@dataclass(frozen=True, slots=True)
class MicroMomentum:
    horizon_s: int
    return_bps: float
    previous_return_bps: float
    acceleration_bps: float
    zscore: float
    direction: int  # +1 up, -1 down, 0 flat

    @property
    def label(self) -> str:
        accel = "accelerating" if self.acceleration_bps * self.direction > 0 else "slowing"
        return "flat" if self.direction == 0 else f"{'up' if self.direction > 0 else 'down'}, {accel}"


def micro_momentum(seconds: CandleArrays | None,
                   params: MomentumParams = MomentumParams()) -> MicroMomentum | None:
    """Short-horizon momentum of the last closed 1 s candles (None with too little data)."""
    horizon = params.horizon_s
    if seconds is None or len(seconds) < 2 * horizon + 1:
        return None
    close = seconds.close[-max(params.volatility_window_s, 2 * horizon) - 1:]
    now, then, before = float(close[-1]), float(close[-1 - horizon]), float(close[-1 - 2 * horizon])
    if then <= 0 or before <= 0:
        return None
    ret = (now / then - 1.0) * 1e4
    previous = (then / before - 1.0) * 1e4
    log_returns = np.diff(np.log(close))
    sigma = float(log_returns.std()) * math.sqrt(horizon) * 1e4
    zscore = ret / sigma if sigma > 0 else 0.0
    direction = 1 if zscore >= params.threshold_z else -1 if zscore <= -params.threshold_z else 0
    return MicroMomentum(horizon, round(ret, 4), round(previous, 4), round(ret - previous, 4),
                         round(zscore, 4), direction)


class Confirmation(StrEnum):
    CONFIRMS = "confirms"
    CONTRADICTS = "contradicts"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class ConfirmationResult:
    status: Confirmation
    reasons: tuple[str, ...]


def confirm(direction: Direction | None, verdict: OrderFlowVerdict | None,
            micro: MicroMomentum | None) -> ConfirmationResult:
    """Do order flow and micro-momentum agree with the higher-timeframe ``direction``?"""
    if direction is None:
        return ConfirmationResult(Confirmation.NEUTRAL, ("no direction to confirm",))
    votes, reasons = [], []
    if verdict is not None and verdict.sign:
        votes.append(verdict.sign * direction.sign)
        reasons.append(f"order flow {verdict.bias} ({verdict.strength:.0f}) "
                       f"{'agrees' if votes[-1] > 0 else 'disagrees'}")
    if micro is not None and micro.direction:
        votes.append(micro.direction * direction.sign)
        reasons.append(f"{micro.horizon_s}s momentum {micro.return_bps:+.1f} bps ({micro.label}) "
                       f"{'agrees' if votes[-1] > 0 else 'disagrees'}")
    if not votes:
        return ConfirmationResult(Confirmation.NEUTRAL, ("order flow and micro-momentum are flat",))
    if all(v > 0 for v in votes):
        return ConfirmationResult(Confirmation.CONFIRMS, tuple(reasons))
    if all(v < 0 for v in votes):
        return ConfirmationResult(Confirmation.CONTRADICTS, tuple(reasons))
    return ConfirmationResult(Confirmation.NEUTRAL, tuple(reasons))
