"""The signal use case: an analysis becomes a judged signal, and a signal becomes an approval.

``evaluate`` snapshots the market (on the loop: the readers copy), runs the analysis off the
event loop, asks the EXECUTE gates whether an accepted plan could trade right now (``blockers``:
a card that cannot pass says why and offers no EXECUTE) and publishes ``SignalEvaluated``,
whatever was found. ``issue`` is the only place approvals (cards) are created; it publishes
``SignalIssued`` and hands the signal to the screening stage, which never delays the card.

Every trigger goes through here: /analyse and free text (DEMAND), WAIT re-checks (WAIT),
continuous evaluation on setup-timeframe closes (CLOSE), the scanner (SCAN) and alerts (ALERT).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from core.analysis.inputs import AnalysisInput, PlanSizing
from core.analysis.synthesis import Analysis
from core.approvals import Approval, ApprovalState, ApprovalStore, JournalEntry
from core.bus import EventBus
from core.events import SignalEvaluated, SignalIssued, Trigger
from core.models import TradePlan
from core.ports import Clock
from core.tunables import TunableValues

log = logging.getLogger("moneybot.signals")
Precheck = Callable[[TradePlan, float], Awaitable[tuple[str, ...]]]


class Analyser(Protocol):
    """Where analyses come from: ``core.analysis_service.AnalysisService`` (or a canned fake)."""

    def snapshot(self, symbol: str, *, sizing: PlanSizing | None = None, at_ms: int | None = None) -> AnalysisInput:
        """The market of ``symbol`` now (or at the close ``at_ms``), copied, its plan sized by ``sizing``;
        ``NotReady`` when data is missing. On the loop."""
        ...


class Sizer(Protocol):
    """The account figures that size a plan like EXECUTE will (``core.plan_sizing.SizingContext``)."""

    async def refresh(self, symbol: str) -> None: ...

    def sizing(self, symbol: str) -> PlanSizing | None: ...

    def analyse_input(self, inp: AnalysisInput) -> Analysis:
        """The analysis of a snapshot: pure, heavy, run off the loop (one at a time)."""
        ...


class ScreeningStage(Protocol):
    """A second look at an issued signal (the AI screener/validator); runs after the card is out."""

    def wants(self, issued: SignalIssued, *, requested: bool) -> bool: ...

    async def screen(self, issued: SignalIssued) -> None: ...


class PassThrough:
    """No screening: every signal goes out as the mechanical pipeline judged it."""

    def wants(self, issued: SignalIssued, *, requested: bool) -> bool:
        return False

    async def screen(self, issued: SignalIssued) -> None:
        return None


@dataclass(frozen=True, slots=True)
class IssuedSignal:
    approval: Approval
    event: SignalIssued

    @property
    def executable(self) -> bool:
        return self.event.executable

    @property
    def screening(self) -> bool:
        return self.event.screening


class SignalService:
    def __init__(self, *, analysis: Analyser, store: ApprovalStore, bus: EventBus, clock: Clock,
                 tunables: TunableValues, precheck: Precheck | None = None,
                 screening: ScreeningStage | None = None, sizer: Sizer | None = None) -> None:
        self._analysis = analysis
        self._sizer = sizer
        self._store = store
        self._bus = bus
        self._clock = clock
        self._tunables = tunables
        self._precheck = precheck
        self.screening: ScreeningStage = screening or PassThrough()
        # one worker: analyses never run concurrently (the zone memo is shared), never on the loop
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")
        self._screens: dict[str, asyncio.Task] = {}  # approval id -> its screening

    # ------------------------------------------------------------------ evaluate

    def snapshot(self, symbol: str, *, at_ms: int | None = None) -> AnalysisInput:
        """The market as the analysis will see it (copies; NotReady when data is missing), its plan sized
        with the account figures last read (``evaluate`` reads them afresh and sizes with those)."""
        sizing = self._sizer.sizing(symbol) if self._sizer is not None else None
        return self._analysis.snapshot(symbol, sizing=sizing, at_ms=at_ms)

    async def evaluate(self, symbol: str, *, trigger: Trigger,
                       snapshot: AnalysisInput | None = None) -> SignalEvaluated:
        """Analyse ``symbol`` now (or the given snapshot) and publish what was found; the plan is sized
        for the account (lots, money at risk) the way EXECUTE will size it.

        Raises ``NotReady`` (core.analysis_service) when the data is not there yet."""
        if self._sizer is not None:
            await self._sizer.refresh(symbol)
        sizing = self._sizer.sizing(symbol) if self._sizer is not None else None
        inp = self.snapshot(symbol) if snapshot is None else replace(snapshot, sizing=sizing or snapshot.sizing)
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(self._executor, self._analysis.analyse_input, inp)
        blockers: tuple[str, ...] = ()
        if analysis.plan is not None and self._precheck is not None:
            blockers = await self._precheck(analysis.plan, analysis.price)
        evaluation = SignalEvaluated(
            ts_ms=self._clock.now_ms(), symbol=symbol, trigger=trigger, source=analysis.source,
            price=analysis.price, analysis=analysis, plan=analysis.plan, candidate=analysis.candidate_plan,
            rejection=analysis.rejection, blockers=blockers, evaluation_id=secrets.token_hex(6))
        self._bus.publish(evaluation)
        return evaluation

    # ------------------------------------------------------------------ issue

    async def issue(self, evaluation: SignalEvaluated, *, chat_id: int, user_id: int,
                    parent_id: str | None = None, screen: bool = False) -> IssuedSignal:
        """Open the approval (the card's EXECUTE / WAIT / REJECT) for an evaluated plan."""
        plan = evaluation.plan
        if plan is None:
            raise ValueError(f"{evaluation.symbol}: no plan to issue ({evaluation.rejection})")
        now = self._clock.now_ms()
        approval = Approval(id=secrets.token_hex(6), plan=plan, card_price=evaluation.price,
                            source=evaluation.source.value, chat_id=chat_id, requested_by=user_id,
                            state=ApprovalState.PENDING, created_ts_ms=now,
                            expires_ts_ms=now + self._tunables["approvals.ttl_s"] * 1000, parent_id=parent_id)
        await self._store.add_approval(approval)
        watch = "" if evaluation.executable else f"; watch only: {'; '.join(evaluation.blockers)}"
        await self._store.add_journal(JournalEntry(
            ts_ms=now, kind="signal", symbol=plan.symbol, approval_id=approval.id,
            text=f"{plan.direction.value} {plan.symbol} card issued ({evaluation.trigger.value}, confidence "
                 f"{plan.confidence:.0f}, R:R {plan.risk_reward:.2f} to T{plan.reward_target}{watch})"))
        event = SignalIssued(ts_ms=now, approval_id=approval.id, symbol=plan.symbol, plan=plan, chat_id=chat_id,
                             requested_by=user_id, trigger=evaluation.trigger, source=evaluation.source,
                             executable=evaluation.executable, blockers=evaluation.blockers, parent_id=parent_id,
                             evaluation_id=evaluation.evaluation_id, evaluation=evaluation)
        event = replace(event, screening=self.screening.wants(event, requested=screen))
        self._bus.publish(event)
        if event.screening:
            task = asyncio.get_running_loop().create_task(self._screen(event), name=f"screen:{approval.id}")
            self._screens[approval.id] = task
            task.add_done_callback(lambda _done: self._screens.pop(approval.id, None))
        return IssuedSignal(approval, event)

    async def screened(self, approval_id: str) -> None:
        """Wait until the screening of this card (if any is running) has finished."""
        task = self._screens.get(approval_id)
        if task is not None:
            await asyncio.shield(task)

    async def _screen(self, event: SignalIssued) -> None:
        try:
            await self.screening.screen(event)
        except Exception:  # noqa: BLE001 - a failed screen leaves the card as it was
            log.exception("screening of %s %s failed", event.symbol, event.approval_id)

    async def close(self) -> None:
        tasks = list(self._screens.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
