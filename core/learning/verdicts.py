"""Plain answers to two questions: did EXECUTE beat REJECT, and did the AI pay for itself.

Both return facts (an ``Answer`` plus the numbers behind it); the handlers word them.

- EXECUTE vs REJECT compares the shadow results of the signals a trader executed with those they
  rejected: the difference of mean R, its bootstrap interval and Welch's p-value. YES when the
  interval is above 0, NO when it is below 0, UNCLEAR when it straddles 0, NOT_ENOUGH when either
  side has fewer than ``learning.min_sample_size`` results.
- The AI's value: among the signals it screened, those it advised against (a screener WEAK or a
  validator REJECT / WAIT) would have made ``sum R``; following it saved ``-sum R`` (negative when it
  turned away winners). In money that is ``-sum R x money_per_r`` (the account's 1R: equity x risk per
  trade), against the ledger's spend over the same period. YES when the saving's lower bound (the
  bootstrap interval of the sum) exceeds the cost, NO when its upper bound is below the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from core.learning.intervals import bootstrap_difference_interval, bootstrap_mean_interval, difference_p_value
from core.learning.metrics import LearningParams
from core.learning.outcomes import TradeResult

ADVISED_AGAINST = frozenset({"weak", "reject", "wait"})  # screener / validator verdicts that say "don't"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"
    NOT_ENOUGH = "not_enough"


@dataclass(frozen=True, slots=True)
class AiSpend:
    """What the AI cost over a period: the cost ledger's answer (issue 11 stores the calls)."""

    cost_usd: float
    calls: int
    since_ts_ms: int
    until_ts_ms: int


class AiCostLedger(Protocol):
    """The port the cost ledger offers learning: its spend between two times."""

    async def spend(self, since_ts_ms: int, until_ts_ms: int) -> AiSpend: ...


@dataclass(frozen=True, slots=True)
class DecisionComparison:
    answer: Answer
    execute_count: int
    reject_count: int
    execute_mean_r: float | None
    reject_mean_r: float | None
    difference_r: float | None  # execute - reject
    low: float | None
    high: float | None
    p_value: float | None
    min_sample_size: int


@dataclass(frozen=True, slots=True)
class AiValue:
    answer: Answer
    screened: int  # signals with an AI verdict
    advised_against: int
    saved_r: float  # -sum R of the signals it advised against
    saved_low_r: float | None
    saved_high_r: float | None
    money_per_r: float
    saved_usd: float
    cost_usd: float
    calls: int
    net_usd: float  # saved - cost
    min_sample_size: int


def execute_vs_reject(results: Sequence[TradeResult], params: LearningParams = LearningParams()) -> DecisionComparison:
    executed = [t.r for t in results if t.tag("decision") == "execute"]
    rejected = [t.r for t in results if t.tag("decision") == "reject"]
    mean_e = float(np.mean(executed)) if executed else None
    mean_r = float(np.mean(rejected)) if rejected else None
    difference = mean_e - mean_r if mean_e is not None and mean_r is not None else None
    enough = min(len(executed), len(rejected)) >= params.min_sample_size
    interval = bootstrap_difference_interval(executed, rejected, level=params.confidence_level,
                                             resamples=params.bootstrap_resamples, seed=params.seed)
    low, high = interval or (None, None)
    answer = Answer.NOT_ENOUGH if not enough else _sign_answer(low, high)
    return DecisionComparison(answer, len(executed), len(rejected), mean_e, mean_r, difference, low, high,
                              difference_p_value(executed, rejected), params.min_sample_size)


def ai_value(results: Sequence[TradeResult], spend: AiSpend, *, money_per_r: float,
             params: LearningParams = LearningParams()) -> AiValue:
    screened = [t for t in results if t.tag("screener") not in (None, "none")
                or t.tag("validator") not in (None, "none")]
    against = [t.r for t in screened if t.tag("screener") in ADVISED_AGAINST or t.tag("validator") in ADVISED_AGAINST]
    saved_r = -float(np.sum(against)) if against else 0.0
    interval = bootstrap_mean_interval(against, level=params.confidence_level, resamples=params.bootstrap_resamples,
                                       seed=params.seed)
    # the interval of the sum is n x the interval of the mean; saving is its negative
    saved_low = -interval[1] * len(against) if interval else None
    saved_high = -interval[0] * len(against) if interval else None
    saved_usd = saved_r * money_per_r
    if len(screened) < params.min_sample_size or saved_low is None or saved_high is None:
        answer = Answer.NOT_ENOUGH
    elif saved_low * money_per_r > spend.cost_usd:
        answer = Answer.YES
    elif saved_high * money_per_r < spend.cost_usd:
        answer = Answer.NO
    else:
        answer = Answer.UNCLEAR
    return AiValue(answer, len(screened), len(against), saved_r, saved_low, saved_high, money_per_r, saved_usd,
                   spend.cost_usd, spend.calls, saved_usd - spend.cost_usd, params.min_sample_size)


def _sign_answer(low: float | None, high: float | None) -> Answer:
    if low is None or high is None:
        return Answer.NOT_ENOUGH
    if low > 0:
        return Answer.YES
    if high < 0:
        return Answer.NO
    return Answer.UNCLEAR
