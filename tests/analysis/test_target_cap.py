"""Targets stay within ``signal.max_target_atr`` ATRs of entry; a plan whose R:R exists only beyond the
cap is not a trade. On the real USD-M BTCUSDT 1h history uncapped plans put T2 up to ~40 ATR away."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.analysis.engine import analyse
from core.analysis.inputs import AnalysisInput
from core.analysis.levels import ZoneMemo
from core.analysis.plan import PlanParams, build_plan, prefilter
from core.analysis.synthesis import AnalysisParams
from core.models import Direction, Zone, ZoneKind
from core.tunables import TunableValues, catalog
from handlers.cards import render_plan
from tests.analysis import realdata
from tests.analysis.zone_reference import htf_from

DEFAULT = AnalysisParams()


def params_with_cap(max_target_atr: float) -> AnalysisParams:
    return replace(DEFAULT, plan=replace(DEFAULT.plan, max_target_atr=max_target_atr))


@pytest.fixture(scope="module")
def scans():
    """Accepted plans every 29 hours over 2024-2026 with the default cap and with (almost) none."""
    source = realdata.klines(realdata.BTC_USDM_1H)
    htf = htf_from(source)
    out = {}
    for name, params in (("default", DEFAULT), ("uncapped", params_with_cap(100.0)), ("tight", params_with_cap(3.0))):
        memo = ZoneMemo()
        out[name] = [analyse(AnalysisInput("BTCUSDT", int(source.open_time_ms[i]), float(source.close[i - 1]),
                                           htf=htf), params, memo) for i in range(3_000, len(source), 29)]
    return out


def atr_distance(plan, target: float) -> float:
    return abs(target - plan.entry) / plan.atr


def test_uncapped_plans_reach_absurdly_far_and_capped_ones_never_do(scans):
    uncapped = [a.plan for a in scans["uncapped"] if a.plan is not None]
    assert max(atr_distance(p, p.targets[1]) for p in uncapped) > 20.0  # the defect, on real data
    capped = [a.plan for a in scans["default"] if a.plan is not None]
    assert len(capped) >= 50
    assert all(atr_distance(p, t) <= 8.0 + 1e-9 for p in capped for t in p.targets)
    assert max(p.risk_reward for p in capped) <= 8.0 / 1.5 + 1e-9  # the best reward over the tightest stop


def test_a_tighter_cap_rejects_plans_whose_reward_lies_beyond_it(scans):
    pairs = list(zip(scans["default"], scans["tight"], strict=True))
    lost = [(a, b) for a, b in pairs if a.plan is not None and b.plan is None]
    assert lost  # the setting is read where targets are chosen
    for _, tight in lost:
        candidate = tight.candidate_plan
        assert all(atr_distance(candidate, t) <= 3.0 + 1e-9 for t in candidate.targets)
        assert "targets stop at 3 ATR" in tight.rejection or "no target within 3 ATR" in tight.rejection


def test_reward_only_beyond_the_cap_is_not_a_trade():
    zones = (Zone(96.5, 97.0, ZoneKind.SUPPORT, 3, ("1d",), 50.0),  # stop 96.25: 3.75 ATR
             Zone(130.0, 131.0, ZoneKind.RESISTANCE, 3, ("1d",), 50.0))
    wide = build_plan("X", Direction.LONG, 100.0, 1.0, zones, confidence=70, setup_type="breakout", timeframe="1h",
                      params=PlanParams(max_target_atr=100.0))
    assert wide.targets[0] == 130.0 and prefilter(wide, price=100.0).ok  # 30 ATR away: R:R 8
    capped = build_plan("X", Direction.LONG, 100.0, 1.0, zones, confidence=70, setup_type="breakout",
                        timeframe="1h", params=PlanParams(max_target_atr=6.0))
    assert capped.targets == pytest.approx((103.75,)) and capped.reward_target == 1  # 2R (7.5 ATR) is beyond
    check = prefilter(capped, price=100.0, params=PlanParams(max_target_atr=6.0))
    assert not check.ok and check.reason == "R:R 1.00 to T1 is below the minimum 1.5 (targets stop at 6 ATR)"
    assert "R:R <b>1.00</b> to T1" in "\n".join(render_plan(capped, 2, "X"))


def test_the_setting_caps_the_targets_through_the_tunables():
    values = TunableValues(catalog())
    zones = (Zone(130.0, 131.0, ZoneKind.RESISTANCE, 3, ("1d",), 50.0),)

    def targets() -> tuple[float, ...]:
        params = AnalysisParams.from_tunables(values).plan
        return build_plan("X", Direction.LONG, 100.0, 1.0, zones, confidence=70, setup_type="breakout",
                          timeframe="1h", params=params).targets

    assert targets() == pytest.approx((101.5, 103.0, 104.5))  # 130 is 30 ATR away: R multiples up to 8 ATR
    values.set("signal.max_target_atr", 40.0)
    assert targets() == pytest.approx((130.0, 131.5, 133.0))
    values.set("signal.max_target_atr", 2.0)
    assert targets() == pytest.approx((101.5,))
