"""Domain events: the facts core publishes on the ``EventBus`` (``core.bus``).

Every event is a frozen dataclass of plain facts (symbols, prices, money in account currency,
ids, reasons). None carries HTML, emoji or Telegram limits: subscribers at the edge (the bot's
notifier, alerts, the shadow book, the cost ledger, the scanner) render or store them.

Times are UTC epoch milliseconds. Money fields say their currency in the name (``*_account``
is in the account currency named by ``currency``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from core.models import DataSource, Direction, Side, TradePlan

if TYPE_CHECKING:
    from core.analysis.synthesis import Analysis
    from core.llm.review import AiReview


class Trigger(StrEnum):
    """Why a signal was evaluated."""

    CLOSE = "close"  # a setup-timeframe candle closed (continuous evaluation)
    DEMAND = "demand"  # a trader asked (/analyse, free text)
    WAIT = "wait"  # a WAIT re-check
    SCAN = "scan"  # the market scanner
    ALERT = "alert"  # an alert subscription


class Decision(StrEnum):
    EXECUTE = "execute"
    WAIT = "wait"
    REJECT = "reject"
    EXPIRED = "expired"


class PositionEventKind(StrEnum):
    FILLED = "filled"  # the position opened (market fill or a pending order triggered)
    TP1 = "tp1"  # target 1 reached: partial close
    BREAKEVEN = "breakeven"  # stop moved to the entry
    TRAIL_MOVED = "trail_moved"  # trailing stop moved
    PARTIAL_CLOSE = "partial_close"  # any other partial close (target 2, manual partial)
    STOP_MOVED = "stop_moved"  # any other stop change
    ERROR = "error"  # the broker refused a management action (retried)


class CloseReason(StrEnum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    BREAKEVEN_STOP = "breakeven_stop"
    TARGET = "target"  # a managed target (T2/T3) closed the rest
    TIME_STOP = "time_stop"
    STOP_OUT = "stop_out"  # the broker's margin stop-out
    MANUAL = "manual"  # a trader closed it (/close, a button, or the terminal)
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every domain event (subscribe to ``Event`` to receive all of them)."""

    ts_ms: int


# ---------------------------------------------------------------------------- signals


@dataclass(frozen=True, slots=True)
class SignalEvaluated(Event):
    """An analysis was run and judged, whether or not it produced a plan that passed.

    ``plan`` is the accepted plan (None when rejected); ``candidate`` the plan before the
    prefilter; ``rejection`` why there is no plan; ``blockers`` why an accepted plan could not be
    executed right now (the EXECUTE gates that would refuse it), empty when it could.
    """

    symbol: str
    trigger: Trigger
    source: DataSource
    price: float
    analysis: Analysis | None  # None when the data was not ready (``rejection`` says what is missing)
    plan: TradePlan | None = None
    candidate: TradePlan | None = None
    rejection: str | None = None
    blockers: tuple[str, ...] = ()
    evaluation_id: str = ""

    @property
    def executable(self) -> bool:
        return self.plan is not None and not self.blockers


@dataclass(frozen=True, slots=True)
class SignalIssued(Event):
    """An approval (a card with EXECUTE / WAIT / REJECT) was opened for a plan."""

    approval_id: str
    symbol: str
    plan: TradePlan
    chat_id: int
    requested_by: int
    trigger: Trigger
    source: DataSource
    executable: bool
    blockers: tuple[str, ...] = ()
    parent_id: str | None = None  # the approval this one supersedes (a WAIT re-check)
    evaluation_id: str = ""
    evaluation: SignalEvaluated | None = None  # the analysis behind it (renderers draw the card from it)
    screening: bool = False  # the AI screening stage checks it (the card says "AI checking…")


@dataclass(frozen=True, slots=True)
class ApprovalDecided(Event):
    approval_id: str
    symbol: str
    decision: Decision
    chat_id: int
    by_user_id: int | None  # None when the clock decided (expired)
    note: str = ""


class WaitOutcome(StrEnum):
    STILL_VALID = "still_valid"  # a fresh card was issued (``new_approval_id``)
    INVALIDATED = "invalidated"  # the signal is gone; nothing was executed


@dataclass(frozen=True, slots=True)
class WaitResolved(Event):
    """A waiting signal's re-checks ended."""

    approval_id: str
    symbol: str
    direction: Direction
    outcome: WaitOutcome
    chat_id: int
    reason: str = ""
    new_approval_id: str | None = None


@dataclass(frozen=True, slots=True)
class SignalScreened(Event):
    """The AI screening stage judged a signal: the screener's verdict and, for strong setups, the
    validator's. ``signal_id`` is the approval id when the card has one; ``review`` holds the details
    (reasons, adjustments, notes, per-stage cost and latency)."""

    review_id: str
    symbol: str
    signal_id: str | None
    screener_verdict: str | None  # STRONG | WEAK | NEUTRAL; None when it gave no valid answer
    validator_decision: str | None  # EXECUTE | WAIT | REJECT; None when not run or no valid answer
    cost_usd: float
    latency_ms: float
    review: AiReview
    chat_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class AiBudgetReached(Event):
    """An AI call was skipped because a budget is spent; published once per period."""

    period: str  # "day" | "month"
    period_key: str  # "2026-11-22" | "2026-11"
    spent_usd: float
    budget_usd: float
    stage: str


# ---------------------------------------------------------------------------- orders and positions


@dataclass(frozen=True, slots=True)
class OrderPlaced(Event):
    approval_id: str
    symbol: str
    direction: Direction
    ticket: int
    volume: float
    price: float  # fill price, in the broker's prices
    chat_id: int
    broker: str = ""


@dataclass(frozen=True, slots=True)
class OrderRefused(Event):
    """EXECUTE did not place an order: a gate said no (``gate``), or the broker refused."""

    approval_id: str
    symbol: str
    gate: str  # "confidence", "daily_loss", "open_positions", ..., "broker", "basis"
    reason: str
    chat_id: int


@dataclass(frozen=True, slots=True)
class PositionChanged(Event):
    """Something happened to an open position (filled, TP1, breakeven, trail moved, partial close)."""

    ticket: int
    symbol: str
    direction: Direction
    kind: PositionEventKind
    price: float | None = None  # the fill price or the new stop
    volume: float | None = None  # volume closed (partials) or opened (filled)
    remaining_volume: float | None = None
    realized_pnl_account: float = 0.0
    currency: str = "USD"
    approval_id: str | None = None
    chat_id: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PositionClosed(Event):
    """A position is closed. ``provisional`` until the broker's closing deals confirm the figures."""

    ticket: int
    symbol: str
    direction: Direction
    reason: CloseReason
    exit_price: float | None
    volume: float
    pnl_account: float  # every close of the position (partials included), commission and swap included
    r_multiple: float | None
    currency: str = "USD"
    commission_account: float = 0.0
    swap_account: float = 0.0
    provisional: bool = False
    approval_id: str | None = None
    chat_id: int | None = None
    closed_by: int | None = None  # the user who closed it through the bot (/close, a button); None otherwise


# ---------------------------------------------------------------------------- safety and market


@dataclass(frozen=True, slots=True)
class FeedHealthChanged(Event):
    symbol: str  # "" for the whole feed
    old_status: str
    new_status: str  # OK | DEGRADED | STALE
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BreakerChanged(Event):
    """The daily-loss circuit breaker tripped (``tripped``) or was reset."""

    tripped: bool
    reason: str
    loss_pct: float = 0.0
    limit_pct: float = 0.0


@dataclass(frozen=True, slots=True)
class WhaleTrade(Event):
    symbol: str
    price: float
    qty: float
    notional_usd: float
    side: Side  # the aggressor
    tier: str  # "small" | "medium" | "large" | "whale" (orderflow.whale_tier_*_usd)
    trade_id: int = 0


@dataclass(frozen=True, slots=True)
class SettingChanged(Event):
    name: str
    old_value: str | None
    new_value: str
    by_user_id: int
    live: bool  # False: takes effect after a restart
