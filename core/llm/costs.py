"""The /costs report: AI spend by UTC day, stage and model, from the ledger rows (pure).

Every figure is a sum over ledger rows, so the report's total is the ledger's total. "Per
analysis" divides by the reviews in the period that made at least one call; "saved" counts the
reviews whose screener verdict made a validator call unnecessary.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.llm.ports import Outcome
from core.llm.records import CallRecord, ReviewRecord


@dataclass(frozen=True, slots=True)
class SpendLine:
    name: str  # a day (YYYY-MM-DD), a stage or a model
    cost_usd: float
    calls: int


@dataclass(frozen=True, slots=True)
class CostReport:
    days: int
    start_day: str
    total_usd: float
    calls: int
    by_day: tuple[SpendLine, ...]  # every day of the period, oldest first, zero days included
    by_stage: tuple[SpendLine, ...]
    by_model: tuple[SpendLine, ...]
    analyses: int  # reviews with at least one stage call
    validator_calls_saved: int
    cache_hits: int
    failures: tuple[tuple[str, int], ...]  # (outcome, count) of calls without a verdict
    unpriced_calls: int  # calls whose model has no price (cost unknown)

    @property
    def per_analysis_usd(self) -> float:
        return self.total_usd / self.analyses if self.analyses else 0.0


def period_start_ms(now: datetime, days: int) -> int:
    """Start of the UTC day ``days - 1`` days before ``now``'s (the report covers ``days`` days)."""
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return int((today - timedelta(days=days - 1)).timestamp() * 1000)


def cost_report(calls: Sequence[CallRecord], reviews: Sequence[ReviewRecord], *, now: datetime,
                days: int) -> CostReport:
    start_ms = period_start_ms(now, days)
    calls = [c for c in calls if c.ts_ms >= start_ms]
    reviews = [r for r in reviews if r.ts_ms >= start_ms]
    day_names = [_day(start_ms + i * 86_400_000) for i in range(days)]
    by_day = _group(calls, lambda c: _day(c.ts_ms), order=day_names)
    failures = Counter(c.outcome.value for c in calls if c.outcome not in (Outcome.OK, Outcome.CACHED))
    reviewed = {c.review_id for c in calls}
    return CostReport(
        days=days, start_day=day_names[0], total_usd=sum(c.cost_usd or 0.0 for c in calls), calls=len(calls),
        by_day=by_day, by_stage=_group(calls, lambda c: c.stage.value), by_model=_group(calls, lambda c: c.model),
        analyses=len(reviewed), validator_calls_saved=sum(1 for r in reviews if r.screened_out),
        cache_hits=sum(1 for c in calls if c.outcome is Outcome.CACHED),
        failures=tuple(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
        unpriced_calls=sum(1 for c in calls if c.cost_usd is None))


def _day(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d")


def _group(calls: Sequence[CallRecord], key, order: Sequence[str] | None = None) -> tuple[SpendLine, ...]:
    cost: dict[str, float] = defaultdict(float)
    count: Counter[str] = Counter()
    for c in calls:
        name = key(c)
        cost[name] += c.cost_usd or 0.0
        count[name] += 1
    names = list(order) if order is not None else sorted(cost, key=lambda n: (-cost[n], n))
    return tuple(SpendLine(n, cost.get(n, 0.0), count.get(n, 0)) for n in names)
