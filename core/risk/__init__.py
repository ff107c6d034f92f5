"""Safety gates: pure functions, each returning ``Allowed`` or ``Denied(reason)``.

``check_all(check, limits)`` runs every gate for a proposed trade and returns all outcomes (the
journal stores which passed) plus the computed size. Limits come from the ``risk.*`` tunables:
``RiskLimits.from_values(tunable_values.snapshot())``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from core.execution import ContractSpec
from core.models import Direction, PendingOrder, Position
from core.risk.breaker import (
    BreakerState,
    BreakerUpdate,
    DailyLoss,
    check_daily_loss,
    daily_loss,
    next_trading_day_ms,
    trading_day_start_ms,
    update_breaker,
)
from core.risk.correlation import CorrelationMatrix, check_correlation, correlation_matrix
from core.risk.gates import (
    Allowed,
    Denied,
    GateResult,
    TradingState,
    check_broker_basis,
    check_confidence,
    check_feed_health,
    check_open_positions,
    check_price_drift,
    check_spread,
    check_trading_state,
    spread_bps,
)
from core.risk.sizing import Sizing, check_size, position_size
from core.tunables import Tunable, params_from_values

__all__ = [
    "TUNABLES", "Allowed", "BreakerState", "BreakerUpdate", "CorrelationMatrix", "DailyLoss", "Denied",
    "GateResult", "RiskLimits", "RiskReport", "Sizing", "TradeCheck", "TradingState", "check_all",
    "check_broker_basis", "check_confidence", "check_correlation", "check_daily_loss", "check_feed_health",
    "check_open_positions", "check_price_drift", "check_size", "check_spread", "check_trading_state", "correlation_matrix",
    "daily_loss", "next_trading_day_ms", "position_size", "spread_bps", "trading_day_start_ms",
    "update_breaker",
]

TUNABLES: tuple[Tunable, ...] = (
    Tunable("risk.min_confidence", float, 60.0, "lowest plan confidence that may trade", 0, 100),
    Tunable("risk.daily_loss_limit_pct", float, 3.0, "daily loss (realised + open) that halts trading until "
            "the next trading day", 0.1, 100, unit="%"),
    Tunable("risk.max_open_positions", int, 3,
            "open positions allowed at once (0 blocks new trades)", 0, 100),
    Tunable("risk.correlation_limit", float, 0.7, "largest correlated exposure a new position may bring "
            "(sum of ±correlations with open positions)", 0, 10),
    Tunable("risk.correlation_window", int, 100, "returns used for the correlation guard", 10, 5000),
    Tunable("risk.max_spread_bps", float, 15.0, "widest spread to trade into", 0, 10_000, unit="bps"),
    Tunable("risk.max_drift_bps", float, 30.0, "largest price move since the card was issued (0 = off)", 0,
            10_000, unit="bps"),
    Tunable("risk.max_drift_atr", float, 0.5, "largest price move since the card, in ATRs (0 = off)", 0, 20,
            unit="ATR"),
    Tunable("risk.risk_per_trade_pct", float, 1.0,
            "equity risked between entry and stop", 0.01, 10, unit="%"),
    Tunable("risk.allow_degraded_feed", bool, True, "trade while the feed is DEGRADED (never when STALE)"),
    Tunable("risk.day_rollover_hour_utc", int, 0,
            "hour (UTC) a trading day starts, for the daily loss", 0, 23, unit="h"),
)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The ``risk.*`` tunables as typed values; defaults equal the tunable defaults."""

    min_confidence: float = 60.0
    daily_loss_limit_pct: float = 3.0
    max_open_positions: int = 3
    correlation_limit: float = 0.7
    correlation_window: int = 100
    max_spread_bps: float = 15.0
    max_drift_bps: float = 30.0
    max_drift_atr: float = 0.5
    risk_per_trade_pct: float = 1.0
    allow_degraded_feed: bool = True
    day_rollover_hour_utc: int = 0

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> RiskLimits:
        """From a tunables snapshot (``{"risk.min_confidence": 55.0, ...}``); missing names keep defaults."""
        return params_from_values(cls, "risk", values)


@dataclass(frozen=True, slots=True)
class TradeCheck:
    """Everything the gates look at for one proposed entry."""

    symbol: str
    direction: Direction
    confidence: float
    entry: float
    stop: float
    card_price: float  # the price when the card was issued
    bid: float  # now, at the broker
    ask: float
    equity: float
    spec: ContractSpec
    start_equity: float  # the trading day's baseline (BreakerState.start_equity)
    realized_pnl_today: float = 0.0
    open_pnl_today: float = 0.0  # open P/L minus BreakerState.start_open_pnl
    atr: float = 0.0
    feed_status: str | Enum = "OK"
    trading_state: TradingState = TradingState.ACTIVE
    paused: bool = False
    halted_reason: str = ""
    open_positions: Sequence[Position | PendingOrder] = ()  # orders count for correlation, not the limit
    closes: Mapping[str, np.ndarray] = field(default_factory=dict)  # same interval, aligned at the end
    risk_pct: float | None = None  # None: limits.risk_per_trade_pct
    quote_to_account: float | None = None  # core.money's rate; None: unknown, the size gate says why
    rate_problem: str = ""  # why quote_to_account is unknown (RateUnavailable's message)
    reference_mid: float | None = None  # the broker mid in the card's (Binance) price terms; None: the mid
    basis_problem: str = ""  # why broker prices cannot be compared with the card yet ("": they can)


@dataclass(frozen=True, slots=True)
class RiskReport:
    results: tuple[GateResult, ...]
    sizing: Sizing | None  # None when the size gate denied

    @property
    def allowed(self) -> bool:
        return all(result.allowed for result in self.results)

    @property
    def denials(self) -> list[Denied]:
        return [result for result in self.results if isinstance(result, Denied)]

    def summary(self) -> str:
        """One line: every refusal, or "all checks passed"."""
        return "; ".join(d.reason for d in self.denials) or "all checks passed"


def check_all(check: TradeCheck, limits: RiskLimits) -> RiskReport:
    """Every gate's outcome for a new position, in a fixed order, plus the size when allowed."""
    mid = (check.bid + check.ask) / 2.0
    matrix = correlation_matrix(check.closes, limits.correlation_window)
    risk_pct = limits.risk_per_trade_pct if check.risk_pct is None else check.risk_pct
    if check.quote_to_account is None:
        sizing: Sizing | Denied = Denied(f"cannot size {check.symbol}: "
                                         f"{check.rate_problem or 'no rate into the account currency'}", "size")
    else:
        sizing = position_size(check.equity, risk_pct, check.entry, check.stop, check.spec,
                               quote_to_account=check.quote_to_account)
    results = (
        check_confidence(check.confidence, limits.min_confidence),
        check_trading_state(check.trading_state, check.paused, halted_reason=check.halted_reason),
        check_daily_loss(check.start_equity, check.realized_pnl_today, check.open_pnl_today,
                         limits.daily_loss_limit_pct),
        check_open_positions(sum(isinstance(p, Position) for p in check.open_positions),
                             limits.max_open_positions),
        check_feed_health(check.feed_status, allow_degraded=limits.allow_degraded_feed),
        check_spread(check.bid, check.ask, limits.max_spread_bps),
        check_broker_basis(check.basis_problem) if check.basis_problem else
        check_price_drift(check.card_price, mid if check.reference_mid is None else check.reference_mid,
                          max_drift_bps=limits.max_drift_bps, atr=check.atr, max_drift_atr=limits.max_drift_atr),
        check_correlation(check.symbol, check.direction, check.open_positions, matrix,
                          limits.correlation_limit),
        check_size(sizing),
    )
    return RiskReport(results, sizing if isinstance(sizing, Sizing) else None)
