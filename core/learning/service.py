"""Learning use cases: the /learn report, the daily summary, optimizer proposals and applying or reverting them.

Facts only: handlers word them. Storage is the ``LearningStore`` port (``db.learning.SqlLearningStore``);
setting changes go through the ``SettingsWriter`` port, which is the same path as ``/set`` (validated,
stored with its audit entry, live at once), so every applied proposal can be seen in the audit trail and
reverted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.learning.knowledge import Observation, Status, update_knowledge
from core.learning.metrics import LearningParams, StrategyMetrics, strategy_metrics
from core.learning.optimizer import OptimizerParams, Proposal, StrategyEvaluator, optimize
from core.learning.records import ShadowTrade, StoredProposal
from core.learning.rescore import RescoreEvaluator
from core.learning.slices import SliceReport, slice_report
from core.learning.verdicts import AiCostLedger, AiValue, DecisionComparison, ai_value, execute_vs_reject

DAY_MS = 86_400_000
WEIGHTS = ("signal.weight_price_action", "signal.weight_momentum", "signal.weight_volume", "signal.weight_sr",
           "signal.weight_order_flow")


class LearningStore(Protocol):
    async def closed_shadow_trades(self, since_ts_ms: int) -> list[ShadowTrade]: ...

    async def observations(self) -> list[Observation]: ...

    async def save_observations(self, observations: list[Observation]) -> None: ...

    async def add_proposal(self, proposal: Proposal, ts_ms: int, status: str) -> int: ...

    async def proposals(self, status: str | None = None, limit: int = 10) -> list[StoredProposal]: ...

    async def proposal(self, proposal_id: int) -> StoredProposal | None: ...

    async def mark_proposal(self, proposal_id: int, status: str, by: int | None, ts_ms: int) -> None: ...


class SettingsWriter(Protocol):
    """Changes a runtime setting like /set does (validated, audited, live); returns (old, new) as text."""

    async def set(self, name: str, value: Any, by_user_id: int) -> tuple[str, str]: ...


@dataclass(frozen=True, slots=True)
class LearningReport:
    since_ts_ms: int
    metrics: StrategyMetrics
    slices: SliceReport
    knowledge: tuple[Observation, ...]
    execute_vs_reject: DecisionComparison
    ai: AiValue | None
    weights: tuple[tuple[str, float], ...]
    pending: tuple[StoredProposal, ...]


@dataclass(frozen=True, slots=True)
class LearningSummary:
    """The day's learning for the daily push (issue 12's job)."""

    since_ts_ms: int
    resolved: int
    metrics: StrategyMetrics
    newly_confirmed: tuple[Observation, ...]
    newly_rejected: tuple[Observation, ...]
    pending_proposals: int


@dataclass(frozen=True, slots=True)
class AppliedChange:
    name: str
    old: str
    new: str


class LearningService:
    def __init__(self, store: LearningStore, *, values: Callable[[], Mapping[str, Any]],
                 ledger: AiCostLedger | None = None) -> None:
        self._store, self._values, self._ledger = store, values, ledger

    def values(self) -> Mapping[str, Any]:
        """The runtime settings the service reads (a snapshot)."""
        return self._values()

    def params(self) -> LearningParams:
        return LearningParams.from_values(self._values())

    async def report(self, now_ms: int, *, days: int = 90, money_per_r: float = 0.0) -> LearningReport:
        since = now_ms - days * DAY_MS
        trades = await self._store.closed_shadow_trades(since)
        results = [r for r in (t.result() for t in trades) if r is not None]
        params = self.params()
        slices = slice_report(results, params)
        knowledge = update_knowledge(await self._store.observations(), slices, now_ms)
        await self._store.save_observations(knowledge)
        ai = None
        if self._ledger is not None:
            ai = ai_value(results, await self._ledger.spend(since, now_ms), money_per_r=money_per_r, params=params)
        values = self._values()
        return LearningReport(since, slices.overall, slices, tuple(knowledge), execute_vs_reject(results, params), ai,
                              tuple((name, float(values[name])) for name in WEIGHTS if name in values),
                              tuple(await self._store.proposals("pending")))

    async def daily_summary(self, now_ms: int) -> LearningSummary:
        """What was learned over the last 24 hours (the knowledge is updated on the way)."""
        since = now_ms - DAY_MS
        before = {o.key: o.status for o in await self._store.observations()}
        day = [r for r in (t.result() for t in await self._store.closed_shadow_trades(since)) if r is not None]
        everything = [r for r in (t.result() for t in await self._store.closed_shadow_trades(0)) if r is not None]
        params = self.params()
        knowledge = update_knowledge(await self._store.observations(), slice_report(everything, params), now_ms)
        await self._store.save_observations(knowledge)

        def changed_to(status: Status) -> tuple[Observation, ...]:
            return tuple(o for o in knowledge if o.status is status and before.get(o.key) is not status)

        return LearningSummary(since, len(day), strategy_metrics(day, params), changed_to(Status.CONFIRMED),
                               changed_to(Status.REJECTED), len(await self._store.proposals("pending")))

    async def propose(self, now_ms: int, *, evaluator: StrategyEvaluator | None = None,
                      settings: SettingsWriter | None = None, by_user_id: int = 0) -> StoredProposal:
        """Run the optimizer (over ``evaluator``, else the stored shadow signals) with the shadow results as
        live evidence; store the proposal, and apply it at once when ``optimizer.auto_optimize`` is on."""
        values = self._values()
        signals = [s for s in (t.scored() for t in await self._store.closed_shadow_trades(0)) if s is not None]
        shadow = RescoreEvaluator(signals, values)
        proposal = optimize(evaluator or shadow, values, OptimizerParams.from_values(values), learning=self.params(),
                            shadow=shadow if evaluator is not None else None)
        auto = bool(values.get("optimizer.auto_optimize", False)) and proposal.recommended and settings is not None
        proposal_id = await self._store.add_proposal(proposal, now_ms, "pending" if proposal.changes else "ignored")
        stored = await self._store.proposal(proposal_id)
        assert stored is not None
        if auto:
            assert settings is not None
            await self.apply(proposal_id, settings, by_user_id=by_user_id, now_ms=now_ms)
            stored = await self._store.proposal(proposal_id)
            assert stored is not None
        return stored

    async def apply(self, proposal_id: int, settings: SettingsWriter, *, by_user_id: int,
                    now_ms: int) -> list[AppliedChange]:
        """Apply a pending proposal through the runtime settings (each change audited)."""
        stored = await self._require(proposal_id, "pending")
        applied = [AppliedChange(c.name, *(await settings.set(c.name, c.proposed, by_user_id)))
                   for c in stored.proposal.changes]
        await self._store.mark_proposal(proposal_id, "applied", by_user_id, now_ms)
        return applied

    async def ignore(self, proposal_id: int, *, by_user_id: int, now_ms: int) -> None:
        await self._require(proposal_id, "pending")
        await self._store.mark_proposal(proposal_id, "ignored", by_user_id, now_ms)

    async def revert(self, proposal_id: int, settings: SettingsWriter, *, by_user_id: int,
                     now_ms: int) -> list[AppliedChange]:
        """Put back the values an applied proposal replaced (audited like any change)."""
        stored = await self._require(proposal_id, "applied")
        reverted = [AppliedChange(c.name, *(await settings.set(c.name, c.current, by_user_id)))
                    for c in stored.proposal.changes]
        await self._store.mark_proposal(proposal_id, "reverted", by_user_id, now_ms)
        return reverted

    async def _require(self, proposal_id: int, status: str) -> StoredProposal:
        stored = await self._store.proposal(proposal_id)
        if stored is None:
            raise LookupError(f"proposal #{proposal_id} does not exist")
        if stored.status != status:
            raise LookupError(f"proposal #{proposal_id} is {stored.status}, not {status}")
        return stored


def money_per_r(equity: float, values: Mapping[str, Any]) -> float:
    """The account's 1R: equity x the risk per trade."""
    return equity * float(values.get("risk.risk_per_trade_pct", 1.0)) / 100.0


def pending_ids(proposals: Sequence[StoredProposal]) -> list[int]:
    return [p.id for p in proposals if p.status == "pending"]
