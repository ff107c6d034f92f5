"""Properties over random trade lists: breakdowns add up to the totals, and the drawdown equals a
brute-force scan over every (earlier, later) pair of per-close-time equity values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.models import Direction
from core.stats import ClosedTrade, compute_stats, equity_curve

T0 = 1_700_000_000_000

trade_fields = st.fixed_dictionaries(dict(
    symbol=st.sampled_from(["BTCUSD", "ETHUSD", "XAUUSD"]),
    setup=st.sampled_from(["breakout", "zone_rejection", ""]),
    pnl=st.floats(-5_000, 5_000, allow_nan=False).map(lambda x: round(x, 2)) | st.just(0.0),
    risk=st.sampled_from([0.0, 50.0, 100.0]),
    close_min=st.integers(0, 20),  # few distinct times, so closes often share a millisecond
    hold_min=st.integers(0, 600),
))


def build(rows: list[dict]) -> list[ClosedTrade]:
    return [ClosedTrade(approval_id=f"a{i}", ticket=i, symbol=row["symbol"], direction=Direction.SHORT,
                        setup_type=row["setup"], entry_price=1.0, exit_price=1.0, volume=1.0,
                        realized_pnl=row["pnl"], risk_amount=row["risk"],
                        open_ts_ms=T0 + (row["close_min"] - row["hold_min"]) * 60_000,
                        close_ts_ms=T0 + row["close_min"] * 60_000)
            for i, row in enumerate(rows)]


def brute_force_drawdown(trades: list[ClosedTrade], starting_equity: float
                         ) -> tuple[tuple[float, float], tuple[float, float]]:
    """(money, percent) of the largest money fall and of the largest percent fall below the highest
    earlier equity, each measured on its own dip, by a full scan (first dip wins a tie)."""
    by_time: dict[int, float] = {}
    for trade in trades:
        by_time[trade.close_ts_ms] = by_time.get(trade.close_ts_ms, 0.0) + trade.realized_pnl
    equity = [starting_equity]
    for ts_ms in sorted(by_time):
        equity.append(equity[-1] + by_time[ts_ms])
    dips = []
    for j in range(len(equity)):
        peak = max(equity[: j + 1])
        dips.append((peak - equity[j], (peak - equity[j]) / peak * 100.0))
    money = max(dips, key=lambda d: d[0])
    pct = max(dips, key=lambda d: d[1])
    return money, pct


@settings(max_examples=150, deadline=None)
@given(st.lists(trade_fields, max_size=40))
def test_breakdowns_sum_to_the_totals(rows: list[dict]) -> None:
    stats = compute_stats(build(rows), starting_equity=10_000.0)
    totals = stats.totals
    for groups in (stats.by_symbol, stats.by_setup):
        assert sum(g.count for g in groups) == totals.count == len(rows)
        assert sum(g.wins for g in groups) == totals.wins
        assert sum(g.losses for g in groups) == totals.losses
        assert sum(g.breakevens for g in groups) == totals.breakevens
        assert sum(g.r_count for g in groups) == totals.r_count
        assert math.fsum(g.net_pnl for g in groups) == pytest.approx(totals.net_pnl, abs=1e-6)
        assert math.fsum(g.gross_profit for g in groups) == pytest.approx(totals.gross_profit, abs=1e-6)
        assert math.fsum(g.gross_loss for g in groups) == pytest.approx(totals.gross_loss, abs=1e-6)
    assert totals.net_pnl == pytest.approx(math.fsum(row["pnl"] for row in rows), abs=1e-6)
    assert totals.net_pnl == pytest.approx(totals.gross_profit - totals.gross_loss, abs=1e-6)
    assert totals.wins + totals.losses + totals.breakevens == totals.count


@settings(max_examples=150, deadline=None)
@given(st.lists(trade_fields, max_size=40), st.sampled_from([1_000.0, 10_000.0, 100_000.0]))
def test_max_drawdown_matches_brute_force(rows: list[dict], starting_equity: float) -> None:
    trades = build(rows)
    drawdown = compute_stats(trades, starting_equity=starting_equity).drawdown
    if not trades:
        assert drawdown.amount == 0.0
        return
    money, pct = brute_force_drawdown(trades, starting_equity)  # peaks never drop below the positive start
    assert (drawdown.by_money.amount, drawdown.by_money.pct) == pytest.approx(money, abs=1e-6)
    assert (drawdown.by_pct.amount, drawdown.by_pct.pct) == pytest.approx(pct, abs=1e-6)
    assert drawdown.amount == drawdown.by_money.amount and drawdown.pct == drawdown.by_pct.pct
    curve = equity_curve(trades, starting_equity)
    assert curve[-1][1] == pytest.approx(starting_equity + math.fsum(r["pnl"] for r in rows), abs=1e-6)
    assert [ts for ts, _ in curve] == sorted(ts for ts, _ in curve)


@settings(max_examples=100, deadline=None)
@given(st.lists(trade_fields, max_size=30))
def test_input_order_does_not_change_the_numbers(rows: list[dict]) -> None:
    trades = build(rows)
    forward = compute_stats(trades, starting_equity=1_000.0)
    backward = compute_stats(trades[::-1], starting_equity=1_000.0)
    assert forward == backward
