"""The validator's suggested entry/stop/target, checked against the plan's own rules.

A suggestion survives only if the plan it would make is still a valid plan: the stop on the
protective side of the entry, the target on the profit side, and R:R (to the target, or to the
plan's own R:R target, ``reward_target``, when no target is suggested) at or above the minimum. A stop or target on the wrong side
is dropped on its own; an R:R under the minimum drops the whole set. Each drop leaves a note.
"""

from __future__ import annotations

from dataclasses import replace

from core.llm.verdicts import Adjustments, Validation
from core.models import TradePlan


def check_adjustments(validation: Validation, plan: TradePlan, *, min_risk_reward: float,
                      digits: int = 5) -> Validation:
    """``validation`` with ``accepted`` and ``notes`` filled in for ``plan``."""
    proposed = validation.proposed
    if not proposed.any:
        return validation
    sign = plan.direction.sign
    entry = proposed.entry if proposed.entry is not None else plan.entry
    notes: list[str] = []
    stop, target = proposed.stop, proposed.target
    if proposed.entry is not None and proposed.entry <= 0:
        notes.append(f"entry {proposed.entry:g} dropped: not a price")
        entry = plan.entry
    if stop is not None and sign * (entry - stop) <= 0:
        notes.append(f"stop {stop:.{digits}f} dropped: on the wrong side of entry {entry:.{digits}f}")
        stop = None
    if target is not None and sign * (target - entry) <= 0:
        notes.append(f"target {target:.{digits}f} dropped: on the wrong side of entry {entry:.{digits}f}")
        target = None
    used_stop = stop if stop is not None else plan.stop
    used_target = target if target is not None else _plan_target(plan)
    risk = sign * (entry - used_stop)
    accepted = Adjustments(entry if proposed.entry is not None and entry != plan.entry else None, stop, target)
    if accepted.any:
        rr = sign * (used_target - entry) / risk if risk > 0 else 0.0
        if risk <= 0 or rr < min_risk_reward:
            notes.append(f"suggested levels dropped: R:R {rr:.2f} is under the minimum {min_risk_reward:g}")
            accepted = Adjustments()
    return replace(validation, accepted=accepted, notes=tuple(notes))


def risk_reward(plan: TradePlan, adjustments: Adjustments) -> float:
    """R:R of the plan with ``adjustments`` applied (to the suggested target, else T2)."""
    entry = adjustments.entry if adjustments.entry is not None else plan.entry
    stop = adjustments.stop if adjustments.stop is not None else plan.stop
    target = adjustments.target if adjustments.target is not None else _plan_target(plan)
    risk = abs(entry - stop)
    return abs(target - entry) / risk if risk > 0 else 0.0


def _plan_target(plan: TradePlan) -> float:
    """The target the plan's R:R is measured to (the entry when it has none)."""
    if not plan.targets:
        return plan.entry
    return plan.targets[min(max(plan.reward_target, 1), len(plan.targets)) - 1]
