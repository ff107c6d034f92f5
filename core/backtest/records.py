"""What a backtest produces: one ``Evaluation`` per decision, one ``BacktestTrade`` per position, the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from core.analysis.synthesis import AnalysisParams
from core.execution import ContractSpec
from core.exits import ExitParams
from core.fills import FillModel
from core.learning.metrics import LearningParams
from core.learning.outcomes import Outcome, TradeResult
from core.models import Direction
from core.risk import RiskLimits
from core.stats import ClosedTrade, equity_curve


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Everything a run depends on. ``from_values`` takes them from a tunables snapshot, as live does."""

    symbol: str
    analysis: AnalysisParams = AnalysisParams()
    exits: ExitParams = ExitParams()
    limits: RiskLimits = RiskLimits()
    fills: FillModel = FillModel()
    learning: LearningParams = LearningParams()
    starting_equity: float = 10_000.0
    from_ts_ms: int | None = None  # first decision at or after (None: the first setup candle close)
    to_ts_ms: int | None = None  # decisions before (None: to the end); open trades expire at the data end
    spec: ContractSpec | None = None  # volume rules; None: any volume, contract size 1
    quote_to_account: float = 1.0  # the symbol's quote currency in the account currency, fixed for the run

    @classmethod
    def from_values(cls, symbol: str, values: Mapping[str, Any], **overrides: Any) -> BacktestConfig:
        return cls(symbol=symbol, analysis=AnalysisParams.from_tunables(values), exits=ExitParams.from_values(values),
                   limits=RiskLimits.from_values(values), fills=FillModel.from_values(values),
                   learning=LearningParams.from_values(values), **overrides)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One decision: what the analysis said at a setup-timeframe close, and what the backtest did."""

    ts_ms: int
    price: float
    direction: str  # long | short | none
    setup_type: str
    confidence: float
    total_score: float
    entry: float | None  # of the accepted plan
    stop: float | None
    targets: tuple[float, ...]
    rejection: str  # why there is no plan ("" with one)
    action: str  # "trade" | "refused: <gate reasons>" | "no plan"


@dataclass(frozen=True, slots=True)
class BacktestTrade:
    number: int
    symbol: str
    direction: Direction
    setup_type: str
    signal_ts_ms: int
    open_ts_ms: int
    entry_price: float
    stop: float
    targets: tuple[float, ...]
    volume: float
    risk_amount: float  # account currency lost at the planned stop (1R)
    close_ts_ms: int
    exit_price: float  # share-weighted mean of the exits
    pnl: float  # account currency, after spread, slippage and fees
    fees: float
    r: float
    outcome: Outcome
    exit_reason: str
    tags: tuple[tuple[str, str], ...] = ()

    def closed_trade(self) -> ClosedTrade:
        return ClosedTrade(approval_id=f"bt{self.number}", ticket=self.number, symbol=self.symbol,
                           direction=self.direction, setup_type=self.setup_type, entry_price=self.entry_price,
                           exit_price=self.exit_price, volume=self.volume, realized_pnl=self.pnl,
                           risk_amount=self.risk_amount, r_multiple=self.r, open_ts_ms=self.open_ts_ms,
                           close_ts_ms=self.close_ts_ms, exit_reason=self.exit_reason, tags=self.tags)

    def result(self) -> TradeResult:
        pnl_pct = self.direction.sign * (self.exit_price / self.entry_price - 1.0) * 100.0
        return TradeResult(key=f"{self.number:06d}", open_ts_ms=self.open_ts_ms, close_ts_ms=self.close_ts_ms,
                           r=self.r, outcome=self.outcome, pnl_pct=pnl_pct,
                           tags=(*self.tags, ("decision", "auto")))

    @staticmethod
    def csv_header() -> tuple[str, ...]:
        return tuple(f.name for f in fields(BacktestTrade))


@dataclass(frozen=True, slots=True)
class Warmup:
    """When each timeframe had the candles its windows read (None: never within the data)."""

    interval: str
    needed: int
    available: int  # closed by the last decision
    complete_ts_ms: int | None


@dataclass(frozen=True, slots=True)
class BacktestResult:
    config: BacktestConfig
    evaluations: tuple[Evaluation, ...]
    trades: tuple[BacktestTrade, ...]
    refusals: dict[str, int] = field(default_factory=dict)  # gate -> plans it refused
    warmup: tuple[Warmup, ...] = ()
    candles: int = 0  # base candles walked
    first_ts_ms: int = 0
    last_ts_ms: int = 0

    def closed_trades(self) -> list[ClosedTrade]:
        return [t.closed_trade() for t in self.trades]

    def results(self) -> list[TradeResult]:
        return [t.result() for t in self.trades]

    def equity(self) -> list[tuple[int, float]]:
        return equity_curve(self.closed_trades(), self.config.starting_equity, since_ts_ms=self.first_ts_ms)

    @property
    def final_equity(self) -> float:
        return self.config.starting_equity + sum(t.pnl for t in self.trades)
