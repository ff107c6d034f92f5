"""`moneybot backtest`: the live analysis, gates, exits and fill model replayed over candle files.

    moneybot backtest --symbol BTCUSDT --candles FILE [--htf FILE ...] [--from DATE] [--to DATE]
                      [--set name=value ...] [--report DIR] [--compare name=value ...]

``--set`` changes runtime settings for the run (the names of /settings); ``--compare`` runs a second
backtest with those changes on top and reports the difference with its interval. ``--report DIR``
writes report.txt, metrics.json, trades.csv, evaluations.csv and equity.png there.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.models import HTF_INTERVALS

if TYPE_CHECKING:
    from core.backtest.records import BacktestResult
    from core.backtest.report import BacktestReport
    from core.tunables import TunableValues

def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="replay the strategy over candle files (same analysis, gates and exits)")
    p.add_argument("--symbol", required=True, help="symbol of the candles, e.g. BTCUSDT")
    p.add_argument("--candles", required=True, type=Path, help="base kline CSV (e.g. 5m)")
    p.add_argument("--htf", type=Path, nargs="*", default=[], help="higher-timeframe kline CSVs (else resampled)")
    p.add_argument("--from", dest="from_", help="first decision (YYYY-MM-DD or epoch ms); earlier data warms up")
    p.add_argument("--to", help="decisions before this (YYYY-MM-DD or epoch ms)")
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="runtime settings for the run")
    p.add_argument("--compare", nargs="*", default=[], metavar="NAME=VALUE", help="a variant to compare against")
    p.add_argument("--report", type=Path, help="directory for report.txt, trades.csv, evaluations.csv, equity.png")
    p.add_argument("--equity", type=float, default=10_000.0, help="starting equity (account currency)")
    p.add_argument("--optimize", action="store_true",
                   help="also run the walk-forward optimizer (optimizer.* settings) and print its proposal")
    p.add_argument("--timeframes", default=",".join(HTF_INTERVALS),
                   help="higher timeframes the analysis sees (default all: 1h,4h,1d,3d,1w,1M)")


def parse_time(text: str | None) -> int | None:
    if not text:
        return None
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def parse_assignments(items: list[str]) -> list[tuple[str, str]]:
    from core.tunables import TunableError

    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise TunableError(f"{item!r}: expected name=value")
        pairs.append((name.strip(), value.strip()))
    return pairs


def tunable_values(assignments: list[tuple[str, str]], base: TunableValues | None = None) -> TunableValues:
    from core.tunables import TunableValues, catalog

    values = TunableValues(catalog())
    if base is not None:
        values.apply(base.snapshot())
    for name, value in assignments:
        values.set(name, value)
    return values


def main(args: argparse.Namespace) -> int:
    from core.backtest.data import DataError
    from core.tunables import TunableError

    try:
        return _run(args)
    except (DataError, TunableError, ValueError) as e:
        print(f"moneybot backtest: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    # imported here: `moneybot run` builds this parser too and must not pay for the backtester's imports
    from core.backtest.data import build_timeframes, interval_from_name, load_klines
    from core.backtest.engine import run_backtest
    from core.backtest.evaluator import BacktestEvaluator
    from core.backtest.records import BacktestConfig
    from core.backtest.report import build_report, compare
    from core.learning.optimizer import OptimizerParams, optimize
    from handlers.html import html_to_plain
    from handlers.learning_text import backtest_text, comparison_text, proposal_text

    intervals = tuple(i.strip() for i in args.timeframes.split(",") if i.strip())
    unknown = [i for i in intervals if i not in HTF_INTERVALS]
    if unknown:
        raise ValueError(f"unknown timeframes {unknown}; choose from {', '.join(HTF_INTERVALS)}")
    started = time.perf_counter()
    base = load_klines(args.candles, args.symbol)
    given = {}
    for path in args.htf:
        candles = load_klines(path, args.symbol, interval_from_name(path))
        given[candles.interval] = candles
    htf = build_timeframes(base, given, intervals)
    values = tunable_values(parse_assignments(args.set))
    config = BacktestConfig.from_values(args.symbol, values.snapshot(), starting_equity=args.equity,
                                        from_ts_ms=parse_time(args.from_), to_ts_ms=parse_time(args.to))
    result = run_backtest(base, htf, config)
    elapsed = time.perf_counter() - started
    report = build_report(result)
    print(html_to_plain(backtest_text(report)))
    print(f"\n{len(base):,} candles in {elapsed:.2f} s ({len(base) / elapsed:,.0f} candles/s)")
    if args.compare:
        changes = parse_assignments(args.compare)
        variant = tunable_values(changes, values)
        other = run_backtest(base, htf, dataclasses.replace(
            BacktestConfig.from_values(args.symbol, variant.snapshot()), starting_equity=config.starting_equity,
            from_ts_ms=config.from_ts_ms, to_ts_ms=config.to_ts_ms))
        print("\n" + html_to_plain(comparison_text(compare(result, other, tuple(changes)))))
    if args.optimize:
        evaluator = BacktestEvaluator(base, htf, args.symbol, values.snapshot(), starting_equity=args.equity)
        proposal = optimize(evaluator, values.snapshot(), OptimizerParams.from_values(values.snapshot()),
                            learning=config.learning)
        print("\n" + html_to_plain(proposal_text(proposal)))
    if args.report:
        write_report(args.report, result, report)
        print(f"report written to {args.report}")
    return 0


def write_report(directory: Path, result: BacktestResult, report: BacktestReport) -> None:
    from charts.equity import render_equity_chart
    from core.backtest.report import trades_csv
    from handlers.html import html_to_plain
    from handlers.learning_text import backtest_text

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.txt").write_text(html_to_plain(backtest_text(report)) + "\n")
    metrics = dataclasses.asdict(report.metrics) | {
        "sharpe_annual": report.metrics.sharpe_annual, "sortino_annual": report.metrics.sortino_annual,
        "net_pnl": report.money.totals.net_pnl, "fees": report.fees, "final_equity": report.final_equity,
        "max_drawdown": report.money.drawdown.amount, "max_drawdown_pct": report.money.drawdown.pct,
        "slices_compared": report.slices.compared, "refusals": report.refusals}
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (directory / "trades.csv").write_text(trades_csv(result.trades))
    with open(directory / "evaluations.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        names = [field.name for field in dataclasses.fields(result.evaluations[0])] if result.evaluations else []
        writer.writerow(names)
        for e in result.evaluations:
            writer.writerow([("|".join(map(repr, v)) if isinstance(v, tuple) else v)
                             for v in (getattr(e, n) for n in names)])
    png = render_equity_chart(result.equity(), title=f"Backtest {result.config.symbol}", source_label="BACKTEST")
    (directory / "equity.png").write_bytes(png)
