"""The plan's size on the card: what EXECUTE's size gate would place, in lots and account money.

Expected values are computed here: 1% of the dollar equity over the dollar loss of one lot at the
stop (the yen distance x 100,000 / USDJPY), rounded down to the 0.01 lot step.
"""

from __future__ import annotations

import math

import pytest

from core.analysis.inputs import PlanSizing
from core.analysis.plan import sized
from core.execution import ContractSpec
from core.models import Direction, TradePlan

USDJPY = ContractSpec("USDJPY", digits=3, contract_size=100_000.0, volume_min=0.01, volume_max=50.0,
                      volume_step=0.01)
PLAN = TradePlan(symbol="USDJPY", direction=Direction.LONG, entry=150.000, stop=149.370, targets=(151.0, 152.0),
                 risk_reward=3.2, confidence=70.0, setup_type="breakout", timeframe="1h", atr=0.4, risk_pct=1.0)


def test_lots_and_dollars_at_risk_for_a_yen_pair() -> None:
    usdjpy_mid = 151.200
    plan = sized(PLAN, PlanSizing(10_000.0, "USD", USDJPY, quote_to_account=1 / usdjpy_mid), risk_pct=1.0)
    dollars_per_lot = (150.000 - 149.370) * 100_000 / usdjpy_mid
    lots = math.floor(100.0 / dollars_per_lot / 0.01 + 1e-9) * 0.01
    assert plan.size_volume == pytest.approx(lots) and lots == pytest.approx(0.24)
    assert plan.size_units == pytest.approx(lots * 100_000)
    assert plan.risk_account == pytest.approx(lots * dollars_per_lot)
    assert plan.risk_pct == pytest.approx(lots * dollars_per_lot / 10_000.0 * 100)
    assert (plan.currency, plan.size_note) == ("USD", "")


def test_no_size_without_a_rate_or_below_the_minimum_says_why() -> None:
    no_rate = sized(PLAN, PlanSizing(10_000.0, "USD", USDJPY, None, "cannot convert JPY to USD: no USDJPY price yet"),
                    risk_pct=1.0)
    assert (no_rate.size_volume, no_rate.size_note) == (0.0, "cannot convert JPY to USD: no USDJPY price yet")
    tiny = sized(PLAN, PlanSizing(100.0, "USD", USDJPY, 1 / 150.0), risk_pct=1.0)
    assert tiny.size_volume == 0.0
    assert tiny.size_note.startswith("size 0.002381 is below the broker minimum 0.01 for USDJPY: the minimum would risk 4.20%")
