"""Approvals: a signal card waiting for EXECUTE / WAIT / REJECT, its states and its store port.

State machine (every change is written to the store before anything else happens):

    PENDING --EXECUTE--> EXECUTING --> EXECUTED | REFUSED (a gate said no) | FAILED (broker said no)
    PENDING --WAIT-----> WAITING --re-check--> SUPERSEDED (a fresh card) | INVALIDATED
    PENDING --REJECT---> REJECTED
    PENDING/WAITING --time-to-live--> EXPIRED

The approval id is the idempotency key: the store allows one order per approval id, and the
transition to EXECUTING is a compare-and-set, so a second press, a forged or replayed callback
or a press from another chat never places a second order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from core.models import Direction, TradePlan
from core.tunables import Tunable

TUNABLES: tuple[Tunable, ...] = (
    Tunable("approvals.ttl_s", int, 300, "seconds a card waits for EXECUTE/WAIT/REJECT before it expires",
            10, 86_400, unit="s"),
    Tunable("approvals.wait_rechecks", int, 3, "re-checks after WAIT before the signal is dropped", 1, 20),
    Tunable("approvals.wait_window_min", int, 30, "minutes over which WAIT re-checks are spread", 1, 1440,
            unit="min"),
    Tunable("approvals.entry_zone_atr", float, 0.25,
            "re-check a waiting signal at once when price comes this close to the entry", 0.01, 5, unit="ATR"),
)


class ApprovalState(StrEnum):
    PENDING = "pending"
    WAITING = "waiting"
    EXECUTING = "executing"
    EXECUTED = "executed"
    REFUSED = "refused"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    INVALIDATED = "invalidated"

    @property
    def open(self) -> bool:
        return self in (ApprovalState.PENDING, ApprovalState.WAITING)


class OrderState(StrEnum):
    SUBMITTING = "submitting"  # written before the broker call
    FILLED = "filled"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the broker call did not answer; reconcile asks the broker


@dataclass(frozen=True, slots=True)
class Approval:
    id: str
    plan: TradePlan
    card_price: float
    source: str
    chat_id: int
    requested_by: int
    state: ApprovalState
    created_ts_ms: int
    expires_ts_ms: int
    message_id: int | None = None
    decided_by: int | None = None
    decided_ts_ms: int | None = None
    note: str | None = None
    wait_checks_left: int = 0
    next_check_ts_ms: int | None = None
    wait_until_ts_ms: int | None = None
    parent_id: str | None = None
    ticket: int | None = None

    @property
    def symbol(self) -> str:
        return self.plan.symbol


@dataclass(frozen=True, slots=True)
class OrderRecord:
    approval_id: str
    symbol: str
    direction: Direction
    volume: float
    state: OrderState
    stop_loss: float | None = None
    take_profit: float | None = None
    ticket: int | None = None
    fill_price: float | None = None
    error: str | None = None
    created_ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class JournalEntry:
    ts_ms: int
    kind: str  # decision | order | fill | refused | failed | partial_close | stop_moved | close | expired | ...
    text: str
    symbol: str = ""
    approval_id: str | None = None
    ticket: int | None = None
    data: dict[str, Any] | None = None


class ApprovalStore(Protocol):
    """Durable approvals, orders and journal. Each call is its own committed transaction: the
    execution path must have its record on disk before the broker is called."""

    async def add_approval(self, approval: Approval) -> None: ...

    async def get_approval(self, approval_id: str) -> Approval | None: ...

    async def set_message(self, approval_id: str, message_id: int) -> None: ...

    async def transition(self, approval_id: str, from_states: Iterable[ApprovalState], to_state: ApprovalState,
                         **fields: Any) -> Approval | None:
        """Compare-and-set: change the state only if it is one of ``from_states``; None otherwise."""
        ...

    async def list_approvals(self, states: Iterable[ApprovalState]) -> list[Approval]: ...

    async def add_order(self, order: OrderRecord, *, gates: dict, basis: dict, ts_ms: int) -> bool:
        """False when an order for this approval already exists (the unique key)."""
        ...

    async def update_order(self, approval_id: str, state: OrderState, ts_ms: int, **fields: Any) -> None: ...

    async def get_order(self, approval_id: str) -> OrderRecord | None: ...

    async def list_orders(self, states: Iterable[OrderState]) -> list[OrderRecord]: ...

    async def approval_for_ticket(self, ticket: int) -> Approval | None: ...

    async def add_journal(self, entry: JournalEntry) -> None: ...

    async def journal_for_ticket(self, ticket: int) -> list[JournalEntry]: ...


def plan_to_dict(plan: TradePlan) -> dict[str, Any]:
    return {"symbol": plan.symbol, "direction": plan.direction.value, "entry": plan.entry, "stop": plan.stop,
            "targets": list(plan.targets), "risk_reward": plan.risk_reward, "confidence": plan.confidence,
            "setup_type": plan.setup_type, "timeframe": plan.timeframe, "atr": plan.atr,
            "size_units": plan.size_units, "risk_pct": plan.risk_pct, "created_ts_ms": plan.created_ts_ms,
            "reasons": list(plan.reasons), "reward_target": plan.reward_target, "size_volume": plan.size_volume,
            "risk_account": plan.risk_account, "currency": plan.currency, "size_note": plan.size_note}


def plan_from_dict(raw: dict[str, Any]) -> TradePlan:
    return TradePlan(symbol=raw["symbol"], direction=Direction(raw["direction"]), entry=raw["entry"],
                     stop=raw["stop"], targets=tuple(raw["targets"]), risk_reward=raw["risk_reward"],
                     confidence=raw["confidence"], setup_type=raw["setup_type"], timeframe=raw["timeframe"],
                     atr=raw["atr"], size_units=raw.get("size_units", 0.0), risk_pct=raw.get("risk_pct", 0.0),
                     created_ts_ms=raw.get("created_ts_ms", 0), reasons=tuple(raw.get("reasons", ())),
                     reward_target=raw.get("reward_target", min(2, len(raw["targets"]))),
                     size_volume=raw.get("size_volume", 0.0), risk_account=raw.get("risk_account", 0.0),
                     currency=raw.get("currency", ""), size_note=raw.get("size_note", ""))
