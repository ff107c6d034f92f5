"""The knowledge base is generated from the slices: statuses move with the evidence, first-seen is kept."""

from __future__ import annotations

import numpy as np

from core.learning.knowledge import Status, update_knowledge
from core.learning.metrics import LearningParams
from core.learning.slices import slice_report
from tests.learning.results import series

NOW = 1_800_000_000_000


def _results(seed: int, breakout_mean: float, n: int = 60, noise_n: int = 30) -> list:
    rng = np.random.default_rng(seed)
    breakout = series(list(rng.normal(breakout_mean, 0.8, n)), setup_type="breakout", order_flow="agrees")
    pullback = series(list(rng.normal(0.0, 0.8, noise_n)), setup_type="trend_pullback", order_flow="disagrees")
    range_ = series(list(rng.normal(0.0, 0.8, 70)), setup_type="range", order_flow="neutral")
    return breakout + pullback + range_


def test_a_real_edge_is_confirmed_and_noise_stays_a_hypothesis() -> None:
    report = slice_report(_results(1, 0.6), LearningParams())
    knowledge = {o.key: o for o in update_knowledge([], report, NOW)}
    breakout = knowledge["setup_type=breakout"]
    assert breakout.area == "price_action" and breakout.status is Status.CONFIRMED
    assert breakout.sample == 60 and breakout.low_r > 0 and breakout.last_confirmed_ts_ms == NOW
    assert "setup type breakout: trades gain" in breakout.statement
    assert knowledge["order_flow=agrees"].area == "order_flow"
    assert knowledge["setup_type=trend_pullback"].status is Status.HYPOTHESIS  # 30 trades: too early to say
    assert knowledge["setup_type=range"].status is Status.REJECTED  # 70 trades (>= 3 x 20) and nothing there


def test_an_edge_that_fades_is_rejected_and_keeps_its_first_sighting() -> None:
    first = update_knowledge([], slice_report(_results(1, 0.6)), NOW)
    later = {o.key: o for o in update_knowledge(first, slice_report(_results(9, 0.0)), NOW + 1000)}
    faded = later["setup_type=breakout"]
    assert faded.status is Status.REJECTED and faded.first_seen_ts_ms == NOW
    assert faded.last_confirmed_ts_ms == NOW and faded.updated_ts_ms == NOW + 1000


def test_small_slices_make_no_observation() -> None:
    small = series([1.0, -1.0, 0.5] * 3, setup_type="breakout") + series([0.2] * 9, setup_type="range")
    assert update_knowledge([], slice_report(small), NOW) == []
    assert update_knowledge([], slice_report(small, LearningParams(min_sample_size=5)), NOW)
