"""A backtest's report as facts: metrics in R and in money, costs, refusals, warm-up, slices, the trades CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass

from core.backtest.records import BacktestResult, BacktestTrade, Warmup
from core.learning.intervals import bootstrap_difference_interval, difference_p_value
from core.learning.metrics import StrategyMetrics, strategy_metrics
from core.learning.slices import SliceReport, slice_report
from core.stats import TradeStats, compute_stats


@dataclass(frozen=True, slots=True)
class BacktestReport:
    symbol: str
    first_ts_ms: int
    last_ts_ms: int
    candles: int
    decisions: int
    plans: int  # decisions with an accepted plan
    traded: int
    refusals: dict[str, int]
    metrics: StrategyMetrics  # in R
    money: TradeStats
    fees: float
    starting_equity: float
    final_equity: float
    slices: SliceReport
    warmup: tuple[Warmup, ...]
    setups: dict[str, int]  # accepted plans per setup type


@dataclass(frozen=True, slots=True)
class Comparison:
    """Variant B against A on the same data: the difference of mean R with its interval and p-value."""

    a: BacktestReport
    b: BacktestReport
    changes: tuple[tuple[str, str], ...]
    difference_r: float | None
    low: float | None
    high: float | None
    p_value: float | None


def build_report(result: BacktestResult) -> BacktestReport:
    config = result.config
    results = result.results()
    plans = [e for e in result.evaluations if e.entry is not None]
    return BacktestReport(
        symbol=config.symbol, first_ts_ms=result.first_ts_ms, last_ts_ms=result.last_ts_ms, candles=result.candles,
        decisions=len(result.evaluations), plans=len(plans), traded=len(result.trades),
        refusals=dict(sorted(result.refusals.items(), key=lambda kv: -kv[1])),
        metrics=strategy_metrics(results, config.learning),
        money=compute_stats(result.closed_trades(), since_ts_ms=result.first_ts_ms,
                            starting_equity=config.starting_equity),
        fees=sum(t.fees for t in result.trades), starting_equity=config.starting_equity,
        final_equity=result.final_equity, slices=slice_report(results, config.learning), warmup=result.warmup,
        setups=dict(Counter(e.setup_type for e in plans).most_common()))


def compare(a: BacktestResult, b: BacktestResult, changes: tuple[tuple[str, str], ...]) -> Comparison:
    ra, rb = [t.r for t in a.trades], [t.r for t in b.trades]
    params = a.config.learning
    interval = bootstrap_difference_interval(rb, ra, level=params.confidence_level,
                                             resamples=params.bootstrap_resamples, seed=params.seed)
    difference = (sum(rb) / len(rb) - sum(ra) / len(ra)) if ra and rb else None
    low, high = interval or (None, None)
    return Comparison(build_report(a), build_report(b), changes, difference, low, high, difference_p_value(rb, ra))


def trades_csv(trades: tuple[BacktestTrade, ...] | list[BacktestTrade]) -> str:
    """One row per trade, every ``BacktestTrade`` field; targets joined by ``|``, tags as ``k=v|k=v``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BacktestTrade.csv_header())
    for t in trades:
        row = []
        for name in BacktestTrade.csv_header():
            value = getattr(t, name)
            if name == "targets":
                value = "|".join(repr(x) for x in value)
            elif name == "tags":
                value = "|".join(f"{k}={v}" for k, v in value)
            elif isinstance(value, float):
                value = repr(value)
            elif hasattr(value, "value"):
                value = value.value
            row.append(value)
        writer.writerow(row)
    return out.getvalue()
