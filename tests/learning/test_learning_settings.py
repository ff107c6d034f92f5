"""The learning and shadow settings change what they govern."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.exits import ExitParams
from core.fills import FillModel
from core.learning import metrics, shadow
from core.learning.metrics import LearningParams
from core.learning.outcomes import Outcome
from core.learning.resolver import TradeWalker
from core.learning.shadow import InMemoryShadowStore, ShadowBook, ShadowParams
from core.learning.slices import slice_report
from core.models import Direction, TradePlan
from core.tunables import TunableValues
from tests.learning.results import series

FREE = FillModel(spread_bps=0, slippage_bps=0, fee_bps=0)
PLAN = TradePlan(symbol="BTCUSD", direction=Direction.LONG, entry=100.0, stop=98.0, targets=(102.0, 104.0, 106.0),
                 risk_reward=2.0, confidence=70.0, setup_type="breakout", timeframe="1h", atr=1.0)


def test_fdr_changes_how_many_slices_survive() -> None:
    rng = np.random.default_rng(4)
    results = (series(list(rng.normal(0.35, 1.0, 60)), setup_type="a")
               + series(list(rng.normal(0.0, 1.0, 60)), setup_type="b"))
    values = TunableValues(metrics.TUNABLES)
    loose = slice_report(results, LearningParams.from_values(values.snapshot()))
    values.set("learning.fdr", "0.001")
    strict = slice_report(results, LearningParams.from_values(values.snapshot()))
    assert loose.discoveries > strict.discoveries and loose.compared == strict.compared


def test_breakeven_tolerance_classifies_the_resolved_trade() -> None:
    values = TunableValues(metrics.TUNABLES)

    def outcome() -> Outcome:
        # 5% closes at T1 (+1R), the rest at the breakeven stop (+0.025R): +0.074R in all
        walker = TradeWalker(PLAN, entry_price=100.0, opened_ts_ms=0, fills=FREE,
                             params=ExitParams(tp1_close_pct=5.0, trailing_enabled=False),
                             breakeven_r=LearningParams.from_values(values.snapshot()).breakeven_r)
        walker.step(300_000, 100.0, 102.1, 99.9, 100.0)
        assert abs(walker.resolution().r - (0.05 * 1.0 + 0.95 * 0.025)) < 1e-9
        return walker.resolution().outcome

    assert outcome() is Outcome.WIN
    values.set("learning.breakeven_r", "0.1")
    assert outcome() is Outcome.BREAKEVEN


async def test_shadow_settings_govern_the_book(signal) -> None:
    event, after = signal
    values = TunableValues(shadow.TUNABLES)

    def book() -> ShadowBook:
        return ShadowBook(InMemoryShadowStore(), fills=FillModel, exits=ExitParams,
                          params=lambda: ShadowParams.from_values(values.snapshot()))

    rejected = replace(event, plan=None, evaluation_id="rej")
    assert await book().on_evaluated(rejected) is not None
    values.set("shadow.include_rejected", "false")
    assert await book().on_evaluated(rejected) is None
    short = book()
    values.set("shadow.max_hold_hours", "1")
    trade = await short.on_evaluated(event)
    assert trade.expires_ts_ms == event.ts_ms + 3_600_000
