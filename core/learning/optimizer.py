"""The optimizer: proposes setting changes only when out-of-sample and live evidence both support them.

Search: Optuna's TPE sampler (seeded) over synthesis weights, the confidence threshold, the stop ATR
multiple, the target spacing (``signal.min_target_r``) and the S/R timeframe weights; the current
values are always trial 0.

Walk-forward, anchored: the evaluator's span is cut into ``folds + 1`` equal periods; fold k fits on
periods 1..k (in-sample, at least ``min_sample_size`` trades or the trial scores nothing) and is
checked on period k+1 (out-of-sample). The out-of-sample trades of every fold's winner are pooled
and compared with the current settings' trades over the same periods. The proposal is the last
fold's winner (fitted on the most data).

It is recommended only when all hold:
1. the pooled out-of-sample objective (``expectancy`` in R per trade, or per-trade ``sharpe``) beats
   the current settings by at least ``min_improvement`` with ``min_sample_size`` trades or more;
2. the gain is unlikely to be luck: for expectancy the bootstrap interval of the difference is above
   0, for Sharpe the deflated Sharpe ratio of the out-of-sample trades clears the confidence level;
3. the live shadow results, when given and large enough, do not contradict it (the candidate's
   shadow objective is not worse than the current one by more than ``min_improvement``).
The deflated Sharpe ratio of the last fold's winner over its trials is always reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from core.learning.deflated import deflated_sharpe
from core.learning.intervals import bootstrap_difference_interval
from core.learning.metrics import LearningParams, sharpe
from core.learning.outcomes import TradeResult
from core.models import HTF_INTERVALS
from core.tunables import Tunable, params_from_values

if TYPE_CHECKING:
    import optuna

TUNABLES: tuple[Tunable, ...] = (
    Tunable("optimizer.auto_optimize", bool, False, "apply a recommended proposal by itself (and announce it) "
            "instead of asking an admin"),
    Tunable("optimizer.objective", str, "expectancy", "what the optimizer improves out of sample",
            choices=("expectancy", "sharpe")),
    Tunable("optimizer.min_sample_size", int, 50, "out-of-sample trades a proposal needs", 10, 100_000),
    Tunable("optimizer.min_improvement", float, 0.05, "smallest out-of-sample gain worth a change (R per "
            "trade, or Sharpe per trade)", 0, 10),
    Tunable("optimizer.trials", int, 40, "settings tried per walk-forward fold", 2, 2000),
    Tunable("optimizer.folds", int, 3, "anchored walk-forward folds", 1, 20),
)
_NO_SCORE = -1e9  # an in-sample score too small to count


@dataclass(frozen=True, slots=True)
class OptimizerParams:
    auto_optimize: bool = False
    objective: str = "expectancy"
    min_sample_size: int = 50
    min_improvement: float = 0.05
    trials: int = 40
    folds: int = 3
    seed: int = 13

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> OptimizerParams:
        return params_from_values(cls, "optimizer", values)


@dataclass(frozen=True, slots=True)
class Dimension:
    """One searched quantity; it sets every setting in ``names`` (that the evaluator supports) to its value."""

    key: str
    names: tuple[str, ...]
    low: float
    high: float
    step: float


SEARCH_SPACE: tuple[Dimension, ...] = (
    *(Dimension(f"weight_{c}", (f"signal.weight_{c}",), 0.0, 50.0, 5.0)
      for c in ("price_action", "momentum", "volume", "sr", "order_flow")),
    Dimension("min_confidence", ("risk.min_confidence",), 30.0, 90.0, 5.0),
    Dimension("stop_atr_multiple", ("signal.stop_atr_multiple",), 0.8, 3.0, 0.1),
    Dimension("min_target_r", ("signal.min_target_r",), 0.5, 3.0, 0.25),
    *(Dimension(f"sr_weight_{i}", (f"sr.weight_{i}",), 0.0, 10.0, 1.0) for i in HTF_INTERVALS),
)


class StrategyEvaluator(Protocol):
    """Trades of the strategy under changed settings over a period (a backtest, or stored signals rescored)."""

    def span(self) -> tuple[int, int]: ...

    def supports(self, name: str) -> bool: ...

    def results(self, changes: Mapping[str, Any], since_ts_ms: int, until_ts_ms: int) -> list[TradeResult]: ...


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    current: Any
    proposed: Any


@dataclass(frozen=True, slots=True)
class ShadowEvidence:
    trades_current: int
    trades_proposed: int
    current: float | None
    proposed: float | None
    meaningful: bool
    contradicts: bool


@dataclass(frozen=True, slots=True)
class Proposal:
    changes: tuple[Change, ...]
    objective: str
    current_oos: float | None
    proposed_oos: float | None
    improvement: float | None
    low: float | None  # interval of the out-of-sample gain (expectancy objective)
    high: float | None
    trades_current: int
    trades_proposed: int
    deflated_sharpe: float | None
    oos_deflated_sharpe: float | None
    trials: int
    folds: int
    shadow: ShadowEvidence | None
    recommended: bool
    reasons: tuple[str, ...]  # why (not)

    def settings(self) -> dict[str, Any]:
        return {c.name: c.proposed for c in self.changes}


def objective_of(results: Sequence[TradeResult], objective: str) -> float | None:
    if not results:
        return None
    r = np.fromiter((t.r for t in results), dtype=np.float64, count=len(results))
    if objective == "sharpe":
        return sharpe(r)
    return float(np.mean(r))


def optimize(evaluator: StrategyEvaluator, current: Mapping[str, Any], params: OptimizerParams = OptimizerParams(),
             *, learning: LearningParams = LearningParams(), shadow: StrategyEvaluator | None = None,
             dimensions: Sequence[Dimension] = SEARCH_SPACE) -> Proposal:
    """Walk-forward search and the recommendation rule of the module docstring."""
    import optuna  # imported on first use: it is slow to import and only the optimizer needs it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dims = [d for d in dimensions if any(evaluator.supports(n) and n in current for n in d.names)]
    start, end = evaluator.span()
    bounds = [start + (end - start) * k // (params.folds + 1) for k in range(params.folds + 2)]
    bounds[-1] = end + 1
    pooled_proposed: list[TradeResult] = []
    pooled_current: list[TradeResult] = []
    best: dict[str, float] = {}
    study: optuna.Study | None = None
    for fold in range(1, params.folds + 1):
        study = _study(evaluator, dims, current, params, (bounds[0], bounds[fold]), fold)
        best = dict(study.best_params)
        pooled_proposed += evaluator.results(_changes(dims, best, evaluator, current), bounds[fold], bounds[fold + 1])
        pooled_current += evaluator.results({}, bounds[fold], bounds[fold + 1])
    changes = tuple(Change(n, current[n], v) for n, v in _changes(dims, best, evaluator, current).items()
                    if v != current[n])
    return _decide(changes, pooled_current, pooled_proposed, study, evaluator, dims, params, learning, shadow)


def _study(evaluator: StrategyEvaluator, dims: list[Dimension], current: Mapping[str, Any],
           params: OptimizerParams, window: tuple[int, int], fold: int) -> optuna.Study:
    import optuna

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=params.seed + fold, n_startup_trials=10))
    study.enqueue_trial({d.key: _clip(float(current[_first(d, evaluator, current)]), d) for d in dims})

    def trial_score(trial: optuna.Trial) -> float:
        values = {d.key: trial.suggest_float(d.key, d.low, d.high, step=d.step) for d in dims}
        results = evaluator.results(_changes(dims, values, evaluator, current), *window)
        trial.set_user_attr("r", [t.r for t in results])
        score = objective_of(results, params.objective)
        if score is None or len(results) < params.min_sample_size or not math.isfinite(score):
            return _NO_SCORE
        return score

    study.optimize(trial_score, n_trials=params.trials)
    return study


def _decide(changes: tuple[Change, ...], current_trades: list[TradeResult], proposed_trades: list[TradeResult],
            study: optuna.Study | None, evaluator: StrategyEvaluator, dims: list[Dimension],
            params: OptimizerParams, learning: LearningParams, shadow: StrategyEvaluator | None) -> Proposal:
    objective = params.objective
    current_oos, proposed_oos = objective_of(current_trades, objective), objective_of(proposed_trades, objective)
    improvement = proposed_oos - current_oos if current_oos is not None and proposed_oos is not None else None
    low, high = bootstrap_difference_interval([t.r for t in proposed_trades], [t.r for t in current_trades],
                                              level=learning.confidence_level, resamples=learning.bootstrap_resamples,
                                              seed=learning.seed) or (None, None)
    trial_sharpes = [s for s in (_trial_sharpe(t) for t in study.trials) if s is not None] if study else []
    best_r = study.best_trial.user_attrs.get("r", []) if study else []
    dsr = deflated_sharpe(best_r, trial_sharpes)
    oos_dsr = deflated_sharpe([t.r for t in proposed_trades], trial_sharpes)
    shadow_evidence = _shadow(shadow, changes, params) if shadow is not None and changes else None
    reasons = []
    if not changes:
        reasons.append("the current settings won in sample")
    if len(proposed_trades) < params.min_sample_size:
        reasons.append(f"{len(proposed_trades)} out-of-sample trades (need {params.min_sample_size})")
    if improvement is None or improvement < params.min_improvement:
        reasons.append(f"out-of-sample gain {improvement if improvement is not None else float('nan'):+.3f} "
                       f"is below {params.min_improvement:g}")
    lucky = (low is None or low <= 0) if objective == "expectancy" else (oos_dsr is None or oos_dsr < learning.confidence_level)
    if lucky:
        reasons.append("the gain could be luck")
    if shadow_evidence is not None and shadow_evidence.contradicts:
        reasons.append("live shadow results contradict it")
    recommended = not reasons
    if recommended:
        reasons.append(f"out-of-sample {objective} {current_oos:+.3f} -> {proposed_oos:+.3f} over "
                       f"{len(proposed_trades)} trades")
    return Proposal(changes, objective, current_oos, proposed_oos, improvement, low, high, len(current_trades),
                    len(proposed_trades), dsr, oos_dsr, len(study.trials) if study else 0, params.folds,
                    shadow_evidence, recommended, tuple(reasons))


def _shadow(shadow: StrategyEvaluator, changes: tuple[Change, ...], params: OptimizerParams) -> ShadowEvidence:
    start, end = shadow.span()
    supported = {c.name: c.proposed for c in changes if shadow.supports(c.name)}
    current_trades = shadow.results({}, start, end + 1)
    proposed_trades = shadow.results(supported, start, end + 1)
    current, proposed = objective_of(current_trades, params.objective), objective_of(proposed_trades, params.objective)
    meaningful = bool(supported) and min(len(current_trades), len(proposed_trades)) >= params.min_sample_size
    contradicts = meaningful and current is not None and proposed is not None and \
        proposed < current - params.min_improvement
    return ShadowEvidence(len(current_trades), len(proposed_trades), current, proposed, meaningful, contradicts)


def _trial_sharpe(trial: optuna.trial.FrozenTrial) -> float | None:
    r = trial.user_attrs.get("r") or []
    return sharpe(np.asarray(r, dtype=np.float64)) if len(r) >= 2 else None


def _changes(dims: list[Dimension], values: Mapping[str, float], evaluator: StrategyEvaluator,
             current: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _typed(current[name], values[d.key]) for d in dims if d.key in values for name in d.names
            if evaluator.supports(name) and name in current}


def _first(d: Dimension, evaluator: StrategyEvaluator, current: Mapping[str, Any]) -> str:
    return next(n for n in d.names if evaluator.supports(n) and n in current)


def _clip(value: float, d: Dimension) -> float:
    snapped = d.low + round((min(max(value, d.low), d.high) - d.low) / d.step) * d.step
    return round(min(snapped, d.high), 10)


def _typed(current: Any, value: float) -> Any:
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, int):
        return int(round(value))
    return round(float(value), 6)
