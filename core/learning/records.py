"""Learning's records as plain data: shadow trades, re-scorable signals, stored proposals.

Kept apart from the services so storage (``db.learning``) can read and write them without importing the
analysis or the risk gates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.learning.optimizer import Proposal
from core.learning.outcomes import Outcome, TradeResult
from core.models import TradePlan

BOOK = "shadow"
Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ExitFill:
    ts_ms: int
    price: float  # after slippage
    share: float  # of the original size
    reason: str


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    entry_price: float  # the entry fill
    exit_price: float  # share-weighted mean of the exit fills
    close_ts_ms: int
    r: float  # after spread, slippage and fees
    pnl_per_unit: float  # quote currency per unit of size, after costs
    pnl_pct: float  # of the entry price, after costs
    reason: str  # of the last exit: "stop loss", "target 3", "trailing stop", "time stop", "expired"
    exits: tuple[ExitFill, ...]
    max_favourable_r: float
    max_adverse_r: float  # <= 0


@dataclass(frozen=True, slots=True)
class ScoredSignal:
    ts_ms: int
    direction: int  # +1 long, -1 short: the direction it was resolved in
    scores: tuple[float, ...]  # per COMPONENTS
    available: tuple[bool, ...]
    confirmation: str  # confirms | contradicts | neutral
    result: TradeResult


@dataclass(frozen=True, slots=True)
class ShadowTrade:
    id: str  # the evaluation id
    book: str
    plan: TradePlan
    accepted: bool  # False: a candidate plan the prefilter rejected
    rejection: str
    trigger: str
    source: str
    signal_ts_ms: int
    entry_fill: float
    expires_ts_ms: int
    scores: tuple[float, ...]  # per COMPONENTS
    available: tuple[bool, ...]
    confirmation: str
    tags: Tags
    approval_id: str | None = None
    decision: str = "none"  # execute | wait | reject | expired, once a trader (or the clock) decided
    screener: str = "none"
    validator: str = "none"
    walker: Mapping[str, Any] | None = None  # TradeWalker.snapshot() while open
    resolution: Resolution | None = None  # set once closed

    @property
    def symbol(self) -> str:
        return self.plan.symbol

    @property
    def closed(self) -> bool:
        return self.resolution is not None

    def all_tags(self) -> Tags:
        return (*self.tags, ("plan", "accepted" if self.accepted else "rejected"), ("decision", self.decision),
                ("screener", self.screener), ("validator", self.validator))

    def result(self) -> TradeResult | None:
        res = self.resolution
        if res is None:
            return None
        return TradeResult(key=self.id, open_ts_ms=self.signal_ts_ms, close_ts_ms=res.close_ts_ms, r=res.r,
                           outcome=res.outcome, pnl_pct=res.pnl_pct, tags=self.all_tags())

    def scored(self) -> ScoredSignal | None:
        result = self.result()
        if result is None:
            return None
        return ScoredSignal(self.signal_ts_ms, self.plan.direction.sign, self.scores, self.available,
                            self.confirmation, result)


@dataclass(frozen=True, slots=True)
class StoredProposal:
    id: int
    created_ts_ms: int
    status: str  # pending | applied | ignored | reverted
    proposal: Proposal
    decided_by: int | None = None
    decided_ts_ms: int | None = None


