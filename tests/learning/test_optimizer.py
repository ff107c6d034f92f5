"""The optimizer on a synthetic market: a planted edge is found; pure noise gets no recommendation."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis.synthesis import COMPONENTS
from core.learning import optimizer as optimizer_module
from core.learning.deflated import deflated_sharpe, expected_max_sharpe
from core.learning.optimizer import OptimizerParams, optimize
from core.learning.outcomes import TradeResult, classify
from core.learning.rescore import RescoreEvaluator, ScoredSignal
from core.tunables import TunableValues, catalog

T0 = 1_700_000_000_000
HOUR_MS = 3_600_000


def current_settings() -> dict:
    return TunableValues(catalog()).snapshot()


def market(seed: int, *, edge: bool, n: int = 2400) -> list[ScoredSignal]:
    """Signals whose components share one market factor (so confidence spreads over 0..100).

    With ``edge``, signals of confidence 75 or more win +0.5R on average and the rest lose -0.25R
    (the current settings trade from confidence 60);
    without it every result is noise around 0.
    """
    rng = np.random.default_rng(seed)
    factor = rng.uniform(-1, 1, n)
    scores = np.clip(factor[:, None] + rng.normal(0, 0.15, (n, len(COMPONENTS))), -1, 1)
    weights = np.array([20.0, 20.0, 15.0, 25.0, 20.0])
    total = scores @ weights / weights.sum()
    confidence = 100 * np.abs(total)
    mean = np.where(confidence >= 75, 0.5, -0.25) if edge else np.zeros(n)
    r = mean + rng.normal(0, 1.0, n)
    signals = []
    for i in range(n):
        ts = T0 + i * 3 * HOUR_MS
        result = TradeResult(f"s{i:05d}", ts, ts + HOUR_MS, float(r[i]), classify(float(r[i])))
        signals.append(ScoredSignal(ts, 1 if total[i] > 0 else -1, tuple(scores[i]), (True,) * len(COMPONENTS),
                                    "neutral", result))
    return signals


FAST = OptimizerParams(trials=30, folds=3)


def test_a_planted_edge_is_found() -> None:
    current = current_settings()
    proposal = optimize(RescoreEvaluator(market(1, edge=True), current), current, FAST)
    assert proposal.recommended, proposal.reasons
    proposed = proposal.settings()
    assert proposed["risk.min_confidence"] >= 70
    assert proposal.improvement > 0.15 and proposal.low > 0
    assert proposal.trades_proposed >= FAST.min_sample_size
    assert proposal.deflated_sharpe is not None and proposal.deflated_sharpe > 0.95
    assert proposal.trials == FAST.trials


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_pure_noise_recommends_nothing(seed) -> None:
    current = current_settings()
    proposal = optimize(RescoreEvaluator(market(seed, edge=False), current), current, FAST)
    assert not proposal.recommended
    assert proposal.reasons


def test_live_shadow_results_can_veto() -> None:
    current = current_settings()
    backtest = RescoreEvaluator(market(1, edge=True), current)
    inverted = [ScoredSignal(s.ts_ms, s.direction, s.scores, s.available, s.confirmation,
                             TradeResult(s.result.key, s.result.open_ts_ms, s.result.close_ts_ms, -s.result.r,
                                         classify(-s.result.r)))
                for s in market(5, edge=True)]  # live, the confident signals lose
    proposal = optimize(backtest, current, FAST, shadow=RescoreEvaluator(inverted, current))
    assert proposal.shadow is not None and proposal.shadow.meaningful and proposal.shadow.contradicts
    assert not proposal.recommended and "live shadow results contradict it" in proposal.reasons


def test_optimizer_settings_change_the_decision() -> None:
    current = current_settings()
    values = TunableValues(optimizer_module.TUNABLES)
    values.set("optimizer.min_sample_size", "5000")
    strict = optimize(RescoreEvaluator(market(1, edge=True), current), current,
                      OptimizerParams.from_values(values.snapshot() | {"optimizer.trials": 30}))
    assert not strict.recommended and any("out-of-sample trades" in r for r in strict.reasons)
    values.set("optimizer.min_sample_size", "50")
    values.set("optimizer.objective", "sharpe")
    values.set("optimizer.trials", "12")
    values.set("optimizer.folds", "2")
    sharpe = optimize(RescoreEvaluator(market(1, edge=True), current), current,
                      OptimizerParams.from_values(values.snapshot()))
    assert sharpe.objective == "sharpe" and sharpe.trials == 12 and sharpe.folds == 2


def test_rescoring_the_current_settings_takes_what_they_took() -> None:
    current = current_settings()
    signals = market(7, edge=False, n=300)
    evaluator = RescoreEvaluator(signals, current)
    taken = evaluator.taken({})
    weights = np.array([float(current[f"signal.weight_{c}"]) for c in COMPONENTS])
    confidence = np.round(100 * np.abs(np.array([s.scores for s in signals]) @ weights / weights.sum()), 1)
    minimum = current["risk.min_confidence"]
    assert np.array_equal(taken, confidence >= minimum)


def test_deflated_sharpe_falls_with_more_trials() -> None:
    rng = np.random.default_rng(3)
    returns = rng.normal(0.1, 1.0, 400)
    few = deflated_sharpe(returns, list(rng.normal(0, 0.05, 3)))
    many = deflated_sharpe(returns, list(rng.normal(0, 0.05, 300)))
    assert few > many
    assert expected_max_sharpe([0.1]) == 0.0 and expected_max_sharpe([0.0, 0.1, 0.2]) > 0
