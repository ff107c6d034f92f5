"""The shadow book: every evaluated signal with a plan is paper-traded in the shadows and resolved.

- ``on_evaluated`` opens a shadow trade for a ``SignalEvaluated`` with a plan: the accepted plan, or
  (with ``shadow.include_rejected``) the candidate the prefilter rejected, tagged ``plan=rejected``.
  It enters at the signal price through the fill model (``core.fills``), carries the analysis tags
  (``core.learning.tags``), the component scores (so the optimizer can re-decide it) and later the
  trader's decision and the AI verdicts.
- ``advance`` walks open trades over new bars (1 s candles where they exist, else 1 m; see
  ``finest_bars``) with the live exit rules; a trade open ``shadow.max_hold_hours`` after its signal
  expires at the last price.
- Every change goes to the ``ShadowStore`` (the database's ``shadow_trades``, book ``shadow``), so a
  restart resumes the open trades where they were.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from core.analysis.synthesis import COMPONENTS
from core.events import ApprovalDecided, SignalEvaluated, SignalIssued
from core.exits import ExitParams
from core.fills import FillModel
from core.learning.records import BOOK, ShadowTrade
from core.learning.resolver import TradeWalker, entry_fill, finest_bars
from core.learning.tags import signal_tags
from core.models import CandleArrays
from core.tunables import Tunable, params_from_values

__all__ = ["BOOK", "InMemoryShadowStore", "ShadowBook", "ShadowParams", "ShadowStore", "ShadowTrade"]

TUNABLES: tuple[Tunable, ...] = (
    Tunable("shadow.max_hold_hours", float, 72.0, "a shadow trade still open this long after its signal expires "
            "at the last price", 1, 24 * 90, unit="h"),
    Tunable("shadow.include_rejected", bool, True, "also shadow-trade plans the prefilter rejected (so a lower "
            "threshold can be judged)"),
)


@dataclass(frozen=True, slots=True)
class ShadowParams:
    max_hold_hours: float = 72.0
    include_rejected: bool = True

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ShadowParams:
        return params_from_values(cls, "shadow", values)


class ShadowStore(Protocol):
    """Where shadow trades live (``db.learning.SqlShadowStore``; ``InMemoryShadowStore`` in tests)."""

    async def add(self, trade: ShadowTrade) -> None: ...

    async def save(self, trade: ShadowTrade) -> None: ...

    async def open_trades(self) -> list[ShadowTrade]: ...


class ShadowBook:
    def __init__(self, store: ShadowStore, *, fills: Callable[[], FillModel], exits: Callable[[], ExitParams],
                 params: Callable[[], ShadowParams], breakeven_r: Callable[[], float] = lambda: 0.05) -> None:
        self._store = store
        self._fills, self._exits, self._params, self._breakeven_r = fills, exits, params, breakeven_r
        self._open: dict[str, ShadowTrade] = {}
        self._walkers: dict[str, TradeWalker] = {}
        self._by_approval: dict[str, str] = {}

    async def load(self) -> int:
        """Resume the open trades of the store; returns how many."""
        for trade in await self._store.open_trades():
            self._track(trade)
        return len(self._open)

    def open_symbols(self) -> set[str]:
        return {t.symbol for t in self._open.values()}

    def open_trades(self) -> list[ShadowTrade]:
        return list(self._open.values())

    async def on_evaluated(self, event: SignalEvaluated, setup_candles: CandleArrays | None = None) -> ShadowTrade | None:
        plan = event.plan or (event.candidate if self._params().include_rejected else None)
        if plan is None or plan.risk_per_unit <= 0 or event.evaluation_id in self._open:
            return None
        analysis = event.analysis
        by_name = {c.name: c for c in analysis.components}
        trade = ShadowTrade(
            id=event.evaluation_id or f"{event.symbol}-{event.ts_ms}", book=BOOK, plan=plan,
            accepted=event.plan is not None, rejection=event.rejection or "", trigger=str(event.trigger),
            source=str(event.source), signal_ts_ms=event.ts_ms, entry_fill=entry_fill(plan, self._fills()),
            expires_ts_ms=event.ts_ms + int(self._params().max_hold_hours * 3_600_000),
            scores=tuple(by_name[c].score if c in by_name else 0.0 for c in COMPONENTS),
            available=tuple(c in by_name and by_name[c].available for c in COMPONENTS),
            confirmation=analysis.confirmation.status.value, tags=signal_tags(analysis, plan, setup_candles))
        walker = self._walker(trade, None)
        trade = replace(trade, walker=walker.snapshot())
        self._track(trade, walker)
        await self._store.add(trade)
        return trade

    async def on_issued(self, event: SignalIssued) -> None:
        if event.evaluation_id:
            self._by_approval[event.approval_id] = event.evaluation_id
            await self._update(event.evaluation_id, approval_id=event.approval_id)

    async def on_decided(self, event: ApprovalDecided) -> None:
        evaluation_id = self._by_approval.get(event.approval_id)
        if evaluation_id is not None:
            await self._update(evaluation_id, decision=event.decision.value)

    async def on_verdict(self, evaluation_id: str, stage: str, verdict: str) -> None:
        """An AI verdict (``stage`` screener or validator) for the signal of ``evaluation_id``."""
        if stage in ("screener", "validator"):
            await self._update(evaluation_id, **{stage: verdict.lower()})

    async def advance(self, symbol: str, now_ms: int, *, seconds: CandleArrays | None = None,
                      minutes: CandleArrays | None = None) -> list[ShadowTrade]:
        """Walk the open trades of ``symbol`` over the bars closed by ``now_ms``; returns those that closed."""
        closed = []
        for trade_id in [i for i, t in self._open.items() if t.symbol == symbol]:
            trade, walker = self._open[trade_id], self._walkers[trade_id]
            bars = finest_bars(seconds, minutes, walker.last_ts_ms, min(now_ms, trade.expires_ts_ms))
            for end, o, h, low, c in bars:
                if walker.step(end, o, h, low, c):
                    break
            if not walker.closed and now_ms >= trade.expires_ts_ms:
                last = bars[-1][4] if bars else trade.plan.entry
                bid, ask = self._fills().quote_at(symbol, last)
                walker.expire(now_ms, bid if trade.plan.direction.sign > 0 else ask)
            if walker.closed:
                trade = replace(trade, walker=None, resolution=walker.resolution())
                del self._open[trade_id], self._walkers[trade_id]
                closed.append(trade)
                await self._store.save(trade)
            elif bars:
                trade = replace(trade, walker=walker.snapshot())
                self._open[trade_id] = trade
                await self._store.save(trade)
        return closed

    # ------------------------------------------------------------------ internals

    def _walker(self, trade: ShadowTrade, snapshot: Mapping[str, Any] | None) -> TradeWalker:
        common = dict(fills=self._fills(), params=self._exits(), breakeven_r=self._breakeven_r())
        if snapshot is not None:
            return TradeWalker.restore(trade.plan, snapshot, **common)
        return TradeWalker(trade.plan, entry_price=trade.entry_fill, opened_ts_ms=trade.signal_ts_ms, **common)

    def _track(self, trade: ShadowTrade, walker: TradeWalker | None = None) -> None:
        self._open[trade.id] = trade
        self._walkers[trade.id] = walker or self._walker(trade, trade.walker)
        if trade.approval_id:
            self._by_approval[trade.approval_id] = trade.id

    async def _update(self, evaluation_id: str, **changes: Any) -> None:
        trade = self._open.get(evaluation_id)
        if trade is not None:
            trade = replace(trade, **changes)
            self._open[evaluation_id] = trade
            await self._store.save(trade)
        else:
            await self._store_update(evaluation_id, changes)

    async def _store_update(self, evaluation_id: str, changes: dict[str, Any]) -> None:
        update = getattr(self._store, "update_tags", None)
        if update is not None:  # a closed trade still learns its decision and verdicts
            await update(evaluation_id, changes)


class InMemoryShadowStore:
    """A ``ShadowStore`` in a dict (tests, and the backtester's shadow runs)."""

    def __init__(self) -> None:
        self.trades: dict[str, ShadowTrade] = {}

    async def add(self, trade: ShadowTrade) -> None:
        self.trades[trade.id] = trade

    async def save(self, trade: ShadowTrade) -> None:
        self.trades[trade.id] = trade

    async def open_trades(self) -> list[ShadowTrade]:
        return [t for t in self.trades.values() if not t.closed]

    async def update_tags(self, evaluation_id: str, changes: dict[str, Any]) -> None:
        if evaluation_id in self.trades:
            self.trades[evaluation_id] = replace(self.trades[evaluation_id], **changes)

    def closed(self) -> Sequence[ShadowTrade]:
        return [t for t in self.trades.values() if t.closed]
