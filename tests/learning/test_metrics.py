"""Strategy metrics equal an independent computation on hand-made result lists."""

from __future__ import annotations

import random

import pytest

from core.learning import metrics as metrics_module
from core.learning.metrics import LearningParams, strategy_metrics
from core.learning.outcomes import Outcome, classify
from core.tunables import TunableValues
from tests.learning.results import T0, independent, result, series

approx = pytest.approx

def _gauss(seed: int, mean: float, sd: float, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sd) for _ in range(n)]


CASES = [
    pytest.param([1.5, -1.0, 2.2, -1.0, 0.0, 3.1, -0.4, -1.0, 1.0], id="mixed"),
    pytest.param([1.2, 0.6, 2.0, 3.5], id="no-losses"),
    pytest.param([-1.0, -1.0, -0.7, -1.05], id="all-losses"),
    pytest.param([1.8], id="one-trade"),
    pytest.param([round(random.Random(7).gauss(0.1, 1.2), 3) for _ in range(1)] * 5, id="all-equal"),
    pytest.param([round(x, 3) for x in _gauss(7, 0.1, 1.2, 60)], id="sixty-random"),
]


def _check(results, m) -> None:
    want = independent(results)
    assert (m.count, m.wins, m.losses) == (want["count"], want["wins"], want["losses"])
    assert m.win_rate.value == approx(want["win_rate"])
    assert (m.win_rate.low, m.win_rate.high) == (approx(want["win_low"]), approx(want["win_high"]))
    assert m.profit_factor == (None if want["profit_factor"] is None else approx(want["profit_factor"]))
    assert m.expectancy_r.value == approx(want["expectancy"])
    assert m.total_r == approx(want["total"])
    for name in ("sharpe_trade", "sortino_trade", "sharpe_daily", "sortino_daily"):
        got, expected = getattr(m, name), want[name]
        assert got == (None if expected is None else approx(expected)), name
    assert m.days == want["days"]
    assert m.max_drawdown_r == approx(want["drawdown"])


@pytest.mark.parametrize("rs", CASES)
def test_metrics_equal_an_independent_computation(rs) -> None:
    results = series(rs)
    _check(results, strategy_metrics(results))


def test_no_losses_has_no_profit_factor_and_no_downside() -> None:
    m = strategy_metrics(series([1.0, 2.0, 0.5]))
    assert m.profit_factor is None and m.sortino_trade is None and m.max_drawdown_r == 0.0
    assert m.win_rate.value == 1.0 and m.win_rate.low < 0.5  # 3 of 3 is not a sure thing


def test_all_losses_has_zero_profit_factor_and_a_drawdown_of_the_whole_sum() -> None:
    m = strategy_metrics(series([-1.0, -1.0, -0.5]))
    assert m.profit_factor == 0.0 and m.win_rate.value == 0.0 and m.max_drawdown_r == approx(2.5)


def test_one_trade_has_no_sharpe_and_a_degenerate_interval() -> None:
    m = strategy_metrics(series([2.0]))
    assert m.sharpe_trade is None and m.sharpe_daily is None
    assert (m.expectancy_r.low, m.expectancy_r.high) == (2.0, 2.0)
    assert not m.meaningful


def test_same_millisecond_closes_are_one_step_whatever_their_order() -> None:
    # +2 then -3 and +3 in the same millisecond then -1: one step of 0, so the deepest fall is the final -1
    base = [result(2.0, close_h=1, key="a"), result(-3.0, close_h=2, key="b"), result(3.0, close_h=2, key="c"),
            result(-1.0, close_h=3, key="d")]
    for keys in (("b", "c"), ("c", "b")):
        renamed = [r if r.key not in keys else result(r.r, close_h=2, key=keys[0] if r.r < 0 else keys[1])
                   for r in base]
        m = strategy_metrics(renamed)
        _check(renamed, m)
        assert m.max_drawdown_r == approx(1.0)


def test_order_of_the_input_does_not_matter() -> None:
    results = series([1.0, -1.0, 0.5, -0.2, 2.0, -1.0] * 5)
    shuffled = results[:]
    random.Random(3).shuffle(shuffled)
    assert strategy_metrics(results) == strategy_metrics(shuffled)


def test_bootstrap_interval_is_seeded_and_covers_the_mean() -> None:
    rs = [round(x, 4) for x in _gauss(11, 0.3, 1.0, 400)]
    first, again = strategy_metrics(series(rs)), strategy_metrics(series(rs))
    e = first.expectancy_r
    assert e == again.expectancy_r  # deterministic
    assert e.low < e.value < e.high
    half_width_normal = 1.96 * (sum((r - e.value) ** 2 for r in rs) / 399) ** 0.5 / 20
    assert (e.high - e.low) / 2 == approx(half_width_normal, rel=0.15)  # close to the normal interval


def test_expired_results_count_in_expectancy_but_not_as_wins() -> None:
    results = [result(0.8, close_h=1, expired=True), result(1.0, close_h=2), result(-1.0, close_h=3)]
    m = strategy_metrics(results)
    assert (m.wins, m.losses, m.expired) == (1, 1, 1)
    assert m.expectancy_r.value == approx(0.8 / 3)


def test_breakeven_tolerance_classifies() -> None:
    assert classify(0.04) is Outcome.BREAKEVEN and classify(0.04, breakeven_r=0.01) is Outcome.WIN
    assert classify(-0.2, expired=True) is Outcome.EXPIRED


@pytest.mark.parametrize("name, value, check", [
    ("learning.min_sample_size", "3", lambda m: m.meaningful),
    ("learning.confidence_level", "0.5", lambda m: m.win_rate.high - m.win_rate.low < 0.3),
    ("learning.bootstrap_resamples", "100", lambda m: m.expectancy_r.low != strategy_metrics(
        series([1.0, -1.0, 2.0, 0.5]), LearningParams()).expectancy_r.low),
])
def test_learning_settings_change_the_metrics(name, value, check) -> None:
    values = TunableValues(metrics_module.TUNABLES)
    results = series([1.0, -1.0, 2.0, 0.5])
    assert not check(strategy_metrics(results, LearningParams.from_values(values.snapshot())))
    values.set(name, value)
    assert check(strategy_metrics(results, LearningParams.from_values(values.snapshot())))


def test_daily_figures_count_days_without_trades() -> None:
    results = [result(1.0, close_h=0), result(1.0, close_h=24 * 3)]  # three days apart
    assert strategy_metrics(results).days == 4
    assert T0  # the fixture epoch
