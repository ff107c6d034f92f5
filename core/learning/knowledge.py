"""The knowledge base: structured observations generated from the slice analysis, never written by hand.

Each slice with at least ``learning.min_sample_size`` results becomes (or updates) one observation in
its area:

| area | slices |
|---|---|
| order_flow | order_flow (agrees / disagrees / neutral) |
| price_action | setup_type, direction |
| liquidity | liquidity (whales with / against, void ahead, quiet) |
| indicators | rsi_state, volume |
| support_resistance | zone, zone_timeframe |
| volume_profile | poc (at, behind, ahead of the point of control) |

Status: **confirmed** when the slice's mean R differs from 0 after the Benjamini-Hochberg correction;
**rejected** when it had been confirmed and no longer is, or when it has three times the minimum sample
and is still not significant; otherwise a **hypothesis**. ``first_seen_ts_ms`` is kept from the first
time; ``last_confirmed_ts_ms`` moves whenever it is confirmed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from core.learning.slices import Slice, SliceReport

AREAS: dict[str, tuple[str, ...]] = {
    "order_flow": ("order_flow",),
    "price_action": ("setup_type", "direction"),
    "liquidity": ("liquidity",),
    "indicators": ("rsi_state", "volume"),
    "support_resistance": ("zone", "zone_timeframe"),
    "volume_profile": ("poc",),
}
_AREA_OF = {dimension: area for area, dimensions in AREAS.items() for dimension in dimensions}
REJECT_AFTER_SAMPLES = 3  # x min_sample_size without significance


class Status(StrEnum):
    HYPOTHESIS = "hypothesis"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Observation:
    key: str  # "<dimension>=<value>"
    area: str
    dimension: str
    value: str
    statement: str
    sample: int
    expectancy_r: float
    low_r: float
    high_r: float
    win_rate: float
    win_low: float
    win_high: float
    adjusted_p: float | None
    status: Status
    first_seen_ts_ms: int
    last_confirmed_ts_ms: int | None
    updated_ts_ms: int


def update_knowledge(previous: Sequence[Observation], report: SliceReport, now_ms: int) -> list[Observation]:
    """The knowledge after this report: every area slice with a meaningful sample, merged with ``previous``
    (observations this report has no sample for are kept as they were)."""
    known = {o.key: o for o in previous}
    out: dict[str, Observation] = dict(known)
    for s in report.slices:
        area = _AREA_OF.get(s.dimension)
        if area is None or not s.metrics.meaningful or s.metrics.expectancy_r is None:
            continue
        key = f"{s.dimension}={s.value}"
        before = known.get(key)
        status = _status(s, before, report)
        observation = _observation(key, area, s, status, now_ms)
        if before is not None:
            observation = replace(observation, first_seen_ts_ms=before.first_seen_ts_ms,
                                  last_confirmed_ts_ms=now_ms if status is Status.CONFIRMED
                                  else before.last_confirmed_ts_ms)
        out[key] = observation
    return sorted(out.values(), key=lambda o: (list(AREAS).index(o.area), o.status is not Status.CONFIRMED, o.key))


def statement(s: Slice) -> str:
    e, w = s.metrics.expectancy_r, s.metrics.win_rate
    assert e is not None and w.value is not None
    verb = "gain" if e.value > 0 else "lose"
    return (f"{s.dimension.replace('_', ' ')} {s.value.replace('_', ' ')}: trades {verb} {abs(e.value):.2f}R each "
            f"on average (95% interval {e.low:+.2f} to {e.high:+.2f}R), win rate {w.value * 100:.0f}% "
            f"({w.low * 100:.0f}-{w.high * 100:.0f}%), {s.metrics.count} trades")


def _status(s: Slice, before: Observation | None, report: SliceReport) -> Status:
    if s.significant:
        return Status.CONFIRMED
    if before is not None and before.status in (Status.CONFIRMED, Status.REJECTED):
        return Status.REJECTED
    if s.metrics.count >= REJECT_AFTER_SAMPLES * s.metrics.min_sample_size:
        return Status.REJECTED
    return Status.HYPOTHESIS


def _observation(key: str, area: str, s: Slice, status: Status, now_ms: int) -> Observation:
    e, w = s.metrics.expectancy_r, s.metrics.win_rate
    assert e is not None and w.value is not None and w.low is not None and w.high is not None
    return Observation(key, area, s.dimension, s.value, statement(s), s.metrics.count, e.value, e.low, e.high,
                       w.value, w.low, w.high, s.adjusted_p, status, now_ms,
                       now_ms if status is Status.CONFIRMED else None, now_ms)
