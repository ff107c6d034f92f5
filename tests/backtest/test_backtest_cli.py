"""`moneybot backtest` end to end: the report files, and metrics equal an independent computation on the
exported trades CSV."""

from __future__ import annotations

import csv
import json

import pytest

from bot.__main__ import main
from core.learning.outcomes import Outcome, TradeResult
from tests.backtest.conftest import FILES, KLINES
from tests.learning.results import independent

approx = pytest.approx


def _backtest(tmp_path, *extra: str) -> int:
    five, hour = FILES["BTCUSDT"]
    return main(["backtest", "--symbol", "BTCUSDT", "--candles", str(KLINES / five), "--htf", str(KLINES / hour),
                 "--from", "2021-02-01", "--to", "2021-05-01", "--report", str(tmp_path / "out"), *extra])


@pytest.mark.slow
def test_cli_writes_a_report_whose_metrics_match_the_trades_csv(tmp_path, capsys) -> None:
    assert _backtest(tmp_path, "--set", "risk.min_confidence=45") == 0
    out = tmp_path / "out"
    printed = capsys.readouterr().out
    assert "Backtest BTCUSDT 2021-02-01" in printed and "candles/s" in printed
    with open(out / "trades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 20
    results = [TradeResult(key=f"{int(row['number']):06d}", open_ts_ms=int(row["open_ts_ms"]),
                           close_ts_ms=int(row["close_ts_ms"]), r=float(row["r"]), outcome=Outcome(row["outcome"]))
               for row in rows]
    want = independent(results)
    got = json.loads((out / "metrics.json").read_text())
    assert got["count"] == want["count"] and got["wins"] == want["wins"] and got["losses"] == want["losses"]
    assert got["win_rate"]["value"] == approx(want["win_rate"])
    assert (got["win_rate"]["low"], got["win_rate"]["high"]) == (approx(want["win_low"]), approx(want["win_high"]))
    assert got["expectancy_r"]["value"] == approx(want["expectancy"])
    assert got["profit_factor"] == approx(want["profit_factor"])
    for name in ("sharpe_trade", "sortino_trade", "sharpe_daily", "sortino_daily"):
        assert got[name] == approx(want[name]), name
    assert got["max_drawdown_r"] == approx(want["drawdown"])
    pnl = sum(float(row["pnl"]) for row in rows)
    assert got["net_pnl"] == approx(pnl) and got["final_equity"] == approx(10_000 + pnl)
    for row in rows:  # R is the money result over the money risked
        assert float(row["r"]) == approx(float(row["pnl"]) / float(row["risk_amount"]))
    assert (out / "equity.png").read_bytes().startswith(b"\x89PNG")
    assert "Win rate" in (out / "report.txt").read_text()
    with open(out / "evaluations.csv", newline="") as f:
        # one decision per hourly close, Feb-Apr, less the 7 hours of the exchange's real gaps in that span
        assert sum(1 for _ in csv.DictReader(f)) == 24 * (28 + 31 + 30) - 7


def test_cli_says_what_is_wrong(tmp_path, capsys) -> None:
    assert _backtest(tmp_path, "--set", "signal.no_such_thing=1") == 2
    assert "unknown setting 'signal.no_such_thing'" in capsys.readouterr().err
    assert main(["backtest", "--symbol", "X", "--candles", str(tmp_path / "missing_5m.csv")]) == 2
