"""compute_stats and friends against hand-computed tables (start equity 1000, risk 100 = 1R)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.stats import (
    NO_DIP,
    TUNABLES,
    Dip,
    Drawdown,
    GroupStats,
    StatsParams,
    compute_stats,
    equity_curve,
    longest_streaks,
    max_drawdown,
    profit_factor_text,
    r_multiple_of,
    win_rate_interval_pct,
)
from core.tunables import TunableValues
from tests.stats.trade_factory import MINUTE_MS, T0, closed, sequence

approx = pytest.approx

# pnls in close order -> expected numbers, worked out by hand in the comments
TABLE = [
    pytest.param(
        [200, -100, -150, 300, -50, 0],
        # equity 1000 1200 1100 950 1250 1200 1200; peak 1200 then 1250; deepest fall 1200 -> 950
        dict(count=6, wins=2, losses=3, breakevens=1, win_rate_pct=100 / 3, gross_profit=500, gross_loss=300,
             net_pnl=200, profit_factor=500 / 300, expectancy=200 / 6, expectancy_r=2 / 6, r_count=6,
             average_win=250, average_loss=-100, average_win_r=2.5, average_loss_r=-1.0,
             drawdown=250, drawdown_pct=250 / 1200 * 100, streaks=(1, 2), best=300, worst=-150),
        id="mixed"),
    pytest.param(
        [100, 50, 25],
        dict(count=3, wins=3, losses=0, breakevens=0, win_rate_pct=100.0, gross_profit=175, gross_loss=0,
             net_pnl=175, profit_factor=None, expectancy=175 / 3, expectancy_r=1.75 / 3, r_count=3,
             average_win=175 / 3, average_loss=None, average_win_r=1.75 / 3, average_loss_r=None,
             drawdown=0, drawdown_pct=0.0, streaks=(3, 0), best=100, worst=25),
        id="all-wins"),
    pytest.param(
        [-100, -50],
        # equity 1000 900 850: 150 below the starting peak = 15%
        dict(count=2, wins=0, losses=2, breakevens=0, win_rate_pct=0.0, gross_profit=0, gross_loss=150,
             net_pnl=-150, profit_factor=0.0, expectancy=-75, expectancy_r=-0.75, r_count=2,
             average_win=None, average_loss=-75, average_win_r=None, average_loss_r=-0.75,
             drawdown=150, drawdown_pct=15.0, streaks=(0, 2), best=-50, worst=-100),
        id="all-losses"),
    pytest.param(
        [],
        dict(count=0, wins=0, losses=0, breakevens=0, win_rate_pct=None, gross_profit=0, gross_loss=0,
             net_pnl=0, profit_factor=None, expectancy=None, expectancy_r=None, r_count=0,
             average_win=None, average_loss=None, average_win_r=None, average_loss_r=None,
             drawdown=0, drawdown_pct=None, streaks=(0, 0), best=None, worst=None),
        id="no-trades"),
    pytest.param(
        [0, 0],
        dict(count=2, wins=0, losses=0, breakevens=2, win_rate_pct=0.0, gross_profit=0, gross_loss=0,
             net_pnl=0, profit_factor=None, expectancy=0, expectancy_r=0, r_count=2,
             average_win=None, average_loss=None, average_win_r=None, average_loss_r=None,
             drawdown=0, drawdown_pct=0.0, streaks=(0, 0), best=0, worst=0),
        id="breakevens-only"),
]


def observed(pnls: list[float]) -> dict:
    stats = compute_stats(sequence(pnls), starting_equity=1000.0)
    totals = stats.totals
    return dict(
        count=totals.count, wins=totals.wins, losses=totals.losses, breakevens=totals.breakevens,
        win_rate_pct=totals.win_rate_pct, gross_profit=totals.gross_profit, gross_loss=totals.gross_loss,
        net_pnl=totals.net_pnl, profit_factor=totals.profit_factor, expectancy=totals.expectancy,
        expectancy_r=totals.expectancy_r, r_count=totals.r_count,
        average_win=stats.average_win, average_loss=stats.average_loss,
        average_win_r=stats.average_win_r, average_loss_r=stats.average_loss_r,
        drawdown=stats.drawdown.amount, drawdown_pct=stats.drawdown.pct,
        streaks=(stats.longest_win_streak, stats.longest_loss_streak),
        best=stats.best.realized_pnl if stats.best else None,
        worst=stats.worst.realized_pnl if stats.worst else None,
    )


@pytest.mark.parametrize(("pnls", "expected"), TABLE)
def test_headline_numbers(pnls: list[float], expected: dict) -> None:
    got = observed(pnls)
    for name, value in expected.items():
        assert got[name] == (value if value is None or isinstance(value, tuple) else approx(value)), name


def test_mixed_drawdown_runs_from_the_1200_peak_to_the_950_trough() -> None:
    stats = compute_stats(sequence([200, -100, -150, 300, -50, 0]), starting_equity=1000.0)
    assert stats.drawdown.by_money.peak_ts_ms == T0  # after the first trade
    assert stats.drawdown.by_money.trough_ts_ms == T0 + 2 * MINUTE_MS  # after the third
    assert stats.best.ticket == 4 and stats.worst.ticket == 3


def test_without_starting_equity_the_drawdown_has_money_but_no_percent() -> None:
    stats = compute_stats(sequence([200, -100, -150, 300]))
    assert stats.drawdown.amount == approx(250.0)
    assert stats.drawdown.pct is None and stats.drawdown.by_money.pct is None


def test_the_largest_money_fall_and_the_largest_percent_fall_are_different_dips() -> None:
    # 1000 -> 500 early (-500, -50 %), then up to 10,000 and down to 9,000 (-1,000, -10 %)
    stats = compute_stats(sequence([-500, 9_500, -1_000]), starting_equity=1000.0)
    by_money, by_pct = stats.drawdown.by_money, stats.drawdown.by_pct
    assert (by_money.amount, by_money.pct) == (approx(1_000.0), approx(10.0))
    assert (by_pct.amount, by_pct.pct) == (approx(500.0), approx(50.0))
    assert by_money.trough_ts_ms == T0 + 2 * MINUTE_MS and by_pct.trough_ts_ms == T0
    assert not stats.drawdown.same_dip


def test_trades_without_risk_count_in_money_but_not_in_r() -> None:
    trades = [closed(200, risk=0, ticket=1), closed(-100, risk=100, ticket=2, close_min=1),
              closed(60, risk=float("nan"), ticket=3, close_min=2),
              closed(100, risk=0, r_multiple=2.0, ticket=4, close_min=3),  # explicit R wins
              closed(10, risk=10, r_multiple=float("inf"), ticket=5, close_min=4)]  # broken R: unknown
    totals = compute_stats(trades).totals
    assert totals.count == 5 and totals.net_pnl == approx(270.0) and totals.expectancy == approx(54.0)
    assert totals.r_count == 2 and totals.expectancy_r == approx((-1.0 + 2.0) / 2)
    assert [t.r for t in trades] == [None, -1.0, None, 2.0, None]


@pytest.mark.parametrize(("pnl", "risk", "expected"), [
    (150.0, 100.0, 1.5), (-50.0, 100.0, -0.5), (10.0, 0.0, None), (10.0, -5.0, None), (10.0, float("inf"), None),
])
def test_r_multiple_of(pnl: float, risk: float, expected: float | None) -> None:
    assert r_multiple_of(pnl, risk) == expected


@pytest.mark.parametrize("tickets", [(1, 2), (2, 1)])
def test_closes_in_the_same_millisecond_are_one_equity_step(tickets: tuple[int, int]) -> None:
    # +100 and -300 at the same time: 1000 -> 800 in one step whichever is listed or numbered first
    trades = [closed(100, close_min=5, ticket=tickets[0]), closed(-300, close_min=5, ticket=tickets[1])]
    for ordering in (trades, trades[::-1]):
        stats = compute_stats(ordering, starting_equity=1000.0)
        start_ts_ms = T0 - 25 * MINUTE_MS  # both opened 30 minutes before closing at minute 5
        dip = Dip(200.0, 20.0, start_ts_ms, T0 + 5 * MINUTE_MS)
        assert stats.drawdown == Drawdown(dip, dip)
        assert equity_curve(ordering, 1000.0) == [(start_ts_ms, 1000.0), (T0 + 5 * MINUTE_MS, 800.0)]


def test_a_minute_apart_the_order_of_closes_matters() -> None:
    trades = [closed(100, close_min=6, ticket=1), closed(-300, close_min=5, ticket=2)]
    assert compute_stats(trades, starting_equity=1000.0).drawdown.amount == approx(300.0)


def test_since_keeps_trades_closed_at_or_after_it() -> None:
    since_ts_ms = T0 + 2 * MINUTE_MS
    stats = compute_stats(sequence([10, 20, 30, 40, 50]), since_ts_ms=since_ts_ms, starting_equity=500.0)
    assert stats.totals.count == 3 and stats.totals.net_pnl == approx(120.0)
    assert stats.since_ts_ms == since_ts_ms and stats.starting_equity == 500.0
    assert equity_curve(sequence([10, 20, 30, 40, 50]), 500.0, since_ts_ms=since_ts_ms) == [
        (since_ts_ms, 500.0), (since_ts_ms, 530.0), (since_ts_ms + MINUTE_MS, 570.0),
        (since_ts_ms + 2 * MINUTE_MS, 620.0)]


def test_equity_curve_starts_at_the_earliest_open() -> None:
    trades = [closed(200, close_min=0, ticket=1), closed(-100, close_min=1, hold_min=90, ticket=2)]
    assert equity_curve(trades, 1000.0) == [
        (T0 - 89 * MINUTE_MS, 1000.0), (T0, 1200.0), (T0 + MINUTE_MS, 1100.0)]


def test_equity_curve_of_no_trades() -> None:
    assert equity_curve([], 1000.0) == []
    assert equity_curve([], 1000.0, since_ts_ms=T0) == [(T0, 1000.0)]


def test_breakeven_tolerance_moves_small_results_out_of_wins_and_losses() -> None:
    stats = compute_stats(sequence([0.5, -0.3, 10, -5]), params=StatsParams(breakeven_tolerance=1.0))
    totals = stats.totals
    assert (totals.wins, totals.losses, totals.breakevens) == (1, 1, 2)
    assert totals.win_rate_pct == approx(25.0)
    # gross figures still take every trade by sign: 10.5 won, 5.3 lost
    assert totals.gross_profit == approx(10.5) and totals.gross_loss == approx(5.3)
    assert totals.profit_factor == approx(10.5 / 5.3)
    assert stats.average_win == approx(10.0) and stats.average_loss == approx(-5.0)
    assert (stats.longest_win_streak, stats.longest_loss_streak) == (1, 1)


def test_breakdowns_by_symbol_and_setup() -> None:
    trades = [closed(100, symbol="BTCUSD", setup="breakout", ticket=1),
              closed(-50, symbol="BTCUSD", setup="zone_rejection", ticket=2, close_min=1),
              closed(30, symbol="ETHUSD", setup="breakout", ticket=3, close_min=2),
              closed(-10, symbol="ETHUSD", setup="", ticket=4, close_min=3),
              closed(0, symbol="XAUUSD", setup="zone_rejection", ticket=5, close_min=4)]
    stats = compute_stats(trades)
    by_symbol = {g.key: g for g in stats.by_symbol}
    assert [g.key for g in stats.by_symbol] == ["BTCUSD", "ETHUSD", "XAUUSD"]
    assert (by_symbol["BTCUSD"].net_pnl, by_symbol["BTCUSD"].profit_factor, by_symbol["BTCUSD"].win_rate_pct) == (
        50.0, 2.0, 50.0)
    assert (by_symbol["ETHUSD"].net_pnl, by_symbol["ETHUSD"].profit_factor, by_symbol["ETHUSD"].expectancy) == (
        20.0, 3.0, 10.0)
    assert (by_symbol["XAUUSD"].count, by_symbol["XAUUSD"].breakevens, by_symbol["XAUUSD"].profit_factor) == (
        1, 1, None)
    assert [(g.key, g.count, g.net_pnl, g.profit_factor) for g in stats.by_setup] == [
        ("breakout", 2, 130.0, None), ("zone_rejection", 2, -50.0, 0.0), ("unspecified", 1, -10.0, 0.0)]


def test_average_hold_time() -> None:
    trades = [closed(10, hold_min=30, ticket=1), closed(-10, hold_min=90, ticket=2, close_min=1)]
    assert compute_stats(trades).average_hold_ms == 60 * MINUTE_MS
    assert compute_stats([]).average_hold_ms is None


@pytest.mark.parametrize(("pnls", "expected"), [
    ([1, 2, -1, 3, 4, 5, -1, -2, 0, -3], (3, 2)),
    ([-1, -1, -1, 0, 1], (1, 3)),
    ([1, 0, 1, 0, 1], (1, 0)),  # a breakeven ends a streak
])
def test_longest_streaks(pnls: list[float], expected: tuple[int, int]) -> None:
    assert longest_streaks(sequence(pnls)) == expected


@pytest.mark.parametrize(("points", "expected"), [
    ([], Drawdown(NO_DIP, None)),
    ([(1, 100.0)], Drawdown(Dip(0.0, 0.0, None, None), Dip(0.0, 0.0, None, None))),
    # the peak is the last time at 100 before the trough
    ([(1, 100.0), (2, 90.0), (3, 100.0), (4, 70.0), (5, 80.0)],
     Drawdown(Dip(30.0, 30.0, 3, 4), Dip(30.0, 30.0, 3, 4))),
    # the largest money fall (1000 -> 900, 10 %) is not the largest percent fall (100 -> 50, money 50)
    ([(1, 100.0), (2, 50.0), (3, 1000.0), (4, 900.0)], Drawdown(Dip(100.0, 10.0, 3, 4), Dip(50.0, 50.0, 1, 2))),
    # a peak at or below zero has no percentage
    ([(1, 0.0), (2, -10.0)], Drawdown(Dip(10.0, None, 1, 2), None)),
])
def test_max_drawdown(points: list[tuple[int, float]], expected: Drawdown) -> None:
    assert max_drawdown(points) == expected


@pytest.mark.parametrize(("wins", "count", "expected"), [
    (5, 10, (23.66, 76.34)),
    (3, 3, (43.85, 100.0)),
    (0, 4, (0.0, 48.99)),
])
def test_wilson_interval(wins: int, count: int, expected: tuple[float, float]) -> None:
    assert win_rate_interval_pct(wins, count) == approx(expected, abs=0.01)


def test_wilson_interval_without_trades() -> None:
    assert win_rate_interval_pct(0, 0) is None


@pytest.mark.parametrize(("changes", "expected"), [
    (dict(profit_factor=1.666, gross_profit=5.0, gross_loss=3.0), "1.67"),
    (dict(profit_factor=None, gross_profit=5.0, gross_loss=0.0), "∞ (no losing trades)"),
    (dict(profit_factor=None, gross_profit=0.0, gross_loss=0.0, count=0), "n/a (no trades)"),
    (dict(profit_factor=None, gross_profit=0.0, gross_loss=0.0, count=2), "n/a (no wins or losses)"),
])
def test_profit_factor_text(changes: dict, expected: str) -> None:
    base = GroupStats("all", 1, 0, 0, 1, 0.0, 0.0, 0.0, 0.0, None, 0.0, None, 0)
    assert profit_factor_text(replace(base, **changes)) == expected


def test_tunables_feed_the_params() -> None:
    values = TunableValues(TUNABLES)
    assert StatsParams.from_values(values.snapshot()) == StatsParams()
    values.set("stats.breakeven_tolerance", "2.5")
    assert StatsParams.from_values(values.snapshot()) == StatsParams(breakeven_tolerance=2.5)


def test_tags_are_looked_up_by_name() -> None:
    trade = replace(closed(10), tags=(("timeframe", "4h"), ("ai_verdict", "EXECUTE")))
    assert trade.tag("ai_verdict") == "EXECUTE" and trade.tag("missing") is None
