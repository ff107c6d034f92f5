"""Signal synthesis and trade plans: protecting stops, minimum R:R, prefilter reasons, determinism."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import risk
from core.analysis import levels, orderflow, synthesis
from core.analysis.engine import analyse
from core.analysis.inputs import AnalysisInput, PlanSizing
from core.analysis.levels import ZoneMemo
from core.analysis.plan import PlanParams, build_plan, prefilter
from core.analysis.resample import resample
from core.analysis.synthesis import AnalysisParams, ComponentScore, SignalParams, total_score
from core.execution import ContractSpec
from core.models import DataSource, Direction, TradePlan, Zone, ZoneKind
from core.tunables import RETIRED, TunableValues
from tests.analysis import realdata

PARAMS = AnalysisParams()
PLAN = PARAMS.plan
USD_ACCOUNT = PlanSizing(equity=10_000.0, currency="USD", spec=ContractSpec("BTCUSD"), quote_to_account=1.0)


@pytest.fixture(scope="module")
def hourly_htf():
    h1 = realdata.klines(realdata.BTC_1H_2021)
    return h1, {"1h": h1, **{i: resample(h1, i) for i in ("4h", "1d", "3d", "1w", "1M")}}


@pytest.fixture(scope="module")
def scan(hourly_htf):
    """analyse() every 11 hours across the 2020-21 history (no order flow, like a forex symbol)."""
    h1, htf = hourly_htf
    memo = ZoneMemo()
    out = []
    for i in range(300, len(h1), 11):
        ts_ms = int(h1.open_time_ms[i]) + 3_600_000
        inp = AnalysisInput("BTCUSD", ts_ms, float(h1.close[i]), DataSource.REPLAY, htf, has_order_flow=False,
                            sizing=USD_ACCOUNT)
        out.append((inp, analyse(inp, PARAMS, memo)))
    return out


def assert_protecting_stop(plan: TradePlan, zones: tuple[Zone, ...], params: PlanParams = PLAN) -> None:
    sign = plan.direction.sign
    risk = sign * (plan.entry - plan.stop)
    assert risk >= params.stop_atr_multiple * plan.atr * (1 - 1e-12)
    protect = levels.nearest_support(zones) if sign > 0 else levels.nearest_resistance(zones)
    if protect is not None:
        edge = protect.low if sign > 0 else protect.high
        zone_stop = edge - sign * params.stop_buffer_atr * plan.atr
        if sign * (plan.entry - zone_stop) <= params.max_stop_atr * plan.atr:
            assert sign * (edge - plan.stop) > 0  # strictly beyond the protecting zone


def test_accepted_plans_have_protecting_stops_and_enough_reward(scan):
    accepted = [(inp, a) for inp, a in scan if a.plan is not None]
    assert len(accepted) >= 20 and {a.plan.direction for _, a in accepted} == {Direction.LONG, Direction.SHORT}
    for inp, a in accepted:
        plan = a.plan
        sign = plan.direction.sign
        assert plan.direction is a.direction and plan.entry == inp.price
        assert_protecting_stop(plan, a.zones)
        assert plan.risk_reward >= PLAN.min_risk_reward
        measured = plan.targets[plan.reward_target - 1]
        assert plan.reward_target == min(2, len(plan.targets))
        assert plan.risk_reward == pytest.approx(sign * (measured - plan.entry) / plan.risk_per_unit)
        assert 1 <= len(plan.targets) <= 3
        assert all(sign * (t - plan.entry) <= PLAN.max_target_atr * plan.atr * (1 + 1e-12) for t in plan.targets)
        steps = [plan.entry, *plan.targets]
        assert all(sign * (b - a_) > 0 for a_, b in zip(steps, steps[1:], strict=False))
        assert sign * (plan.targets[0] - plan.entry) >= PLAN.min_target_r * plan.risk_per_unit * (1 - 1e-12)
        assert plan.size_units * plan.risk_per_unit == pytest.approx(10_000.0 * PLAN.risk_per_trade_pct / 100)
        assert plan.risk_account == pytest.approx(100.0) and plan.currency == "USD"
        assert plan.setup_type == a.setup_type in {"breakout", "zone_rejection", "trend_pullback",
                                                   "trend_continuation", "counter_trend", "range"}
        assert a.rejection is None and prefilter(plan, price=inp.price).ok


def test_rejected_candidates_say_why_and_no_trade_has_no_plan(scan):
    for _, a in scan:
        if a.direction is None:
            assert a.plan is None and a.candidate_plan is None and a.rejection.startswith("no trade")
            assert abs(a.total_score) < PARAMS.signal.direction_threshold
        elif a.plan is None:
            check = prefilter(a.candidate_plan, price=a.price)
            assert not check.ok and a.rejection == check.reason
            assert_protecting_stop(a.candidate_plan, a.zones)


def test_order_flow_is_left_out_and_weights_renormalised_without_it(scan):
    for _, a in scan[:20]:
        flow = next(c for c in a.components if c.name == "order_flow")
        assert not flow.available and a.order_flow is None
        used = [c for c in a.components if c.available]
        expected = sum(c.weight * c.score for c in used) / sum(c.weight for c in used)
        assert a.total_score == pytest.approx(expected, abs=1e-6)
        assert sum(c.weight for c in used) == 80.0  # 20 + 20 + 15 + 25 when every other part has data


def test_same_inputs_give_the_same_analysis(hourly_htf, scan):
    _, htf = hourly_htf
    for inp, first in scan[::15]:
        uncached = analyse(inp, PARAMS)
        fresh_memo = analyse(inp, PARAMS, ZoneMemo())
        assert repr(uncached) == repr(first) == repr(fresh_memo)  # repr: NaN-safe deep comparison


def test_weights_change_the_score_as_configured(scan):
    inp, a = next((inp, a) for inp, a in scan if a.direction is not None)
    only_sr = replace(PARAMS, signal=SignalParams(weight_price_action=0, weight_momentum=0, weight_volume=0,
                                                  weight_sr=25, weight_order_flow=20))
    b = analyse(inp, only_sr)
    sr = next(c for c in b.components if c.name == "sr")
    assert b.total_score == pytest.approx(sr.score, abs=1e-6)


def live_input(ts_ms: int, **overrides) -> AnalysisInput:
    h1 = realdata.klines(realdata.BTC_USDM_1H).until(ts_ms).tail(2000)
    htf = {"1h": h1, **{i: resample(h1, i) for i in ("4h", "1d", "3d", "1w", "1M")}}
    books = [b for b in realdata.depth_books(realdata.BTC_DEPTH_2024) if b.ts_ms <= ts_ms]
    fields = dict(symbol="BTCUSD", ts_ms=ts_ms, price=books[-1].mid, source=DataSource.REPLAY, htf=htf,
                  seconds=realdata.klines(realdata.BTC_1S_2024), minutes=realdata.klines(realdata.BTC_1M_2024),
                  trades=realdata.columns(realdata.derived_aggtrade_rows(realdata.BTC_AGG_2024)),
                  book=books[-1], has_order_flow=True, data_age_s=0.2,
                  sizing=replace(USD_ACCOUNT, equity=5_000.0))
    fields.update(overrides)
    return AnalysisInput(**fields)


@pytest.mark.parametrize("offset_s", [120, 400, 640])
def test_full_analysis_on_the_live_recordings(offset_s):
    start = int(realdata.klines(realdata.BTC_1S_2024).open_time_ms[0])
    inp = live_input(start + offset_s * 1000)
    a = analyse(inp)
    assert a.order_flow is not None and a.micro is not None
    assert a.order_flow.pressure.trade_count > 0
    assert all(c.available for c in a.components)
    assert all(w.ts_ms <= inp.ts_ms for w in a.order_flow.whales)
    assert [s.interval for s in a.timeframes] == ["1h", "4h", "1d", "3d", "1w", "1M"]
    assert repr(a) == repr(analyse(inp))
    if a.candidate_plan is not None:
        assert_protecting_stop(a.candidate_plan, a.zones)


def test_stale_or_bad_data_blocks_the_plan():
    start = int(realdata.klines(realdata.BTC_1S_2024).open_time_ms[0])
    inp = live_input(start + 400_000)
    loose = replace(PARAMS, signal=replace(PARAMS.signal, direction_threshold=0.0),
                    plan=replace(PLAN, min_risk_reward=0.0))
    assert analyse(inp, loose).plan is not None
    stale = analyse(replace(inp, data_age_s=60.0), loose)
    assert stale.plan is None and "data is 60s old" in stale.rejection
    wide = analyse(replace(inp, spread=inp.price * 0.01), loose)
    assert wide.plan is not None  # a wide spread is an EXECUTE gate (risk.max_spread_bps): the card is watch only
    later = analyse(replace(inp, ts_ms=inp.ts_ms + 5 * 3_600_000, htf={"1h": inp.htf["1h"]}), loose)
    assert later.plan is None and "1h candles are stale" in later.rejection
    no_setup = analyse(replace(inp, htf={"4h": inp.htf["4h"]}), loose)
    assert no_setup.plan is None and "no 1h candles" in no_setup.rejection


# ---------------------------------------------------------------------------- plan rules


def zone(low: float, high: float, kind: ZoneKind, score: float = 50.0) -> Zone:
    return Zone(low, high, kind, 3, ("1d",), score)


def test_stop_goes_beyond_the_protecting_zone_or_falls_back_to_atr():
    zones = (zone(95.0, 97.0, ZoneKind.SUPPORT), zone(110.0, 111.0, ZoneKind.RESISTANCE),
             zone(120.0, 121.0, ZoneKind.RESISTANCE))
    plan = build_plan("X", Direction.LONG, 100.0, 1.5, zones, confidence=60, setup_type="breakout", timeframe="1h")
    assert plan.stop == pytest.approx(95.0 - 0.25 * 1.5)  # 5.375 from entry: between 1.5 and 4 ATR
    # 120 is 13.3 ATR away, beyond the 8 ATR cap: T2 is the next whole R (2R = 110.75), 3R is beyond too
    assert plan.targets == pytest.approx((110.0, 100 + 2 * 5.375)) and plan.reward_target == 2
    uncapped = build_plan("X", Direction.LONG, 100.0, 1.5, zones, confidence=60, setup_type="breakout",
                          timeframe="1h", params=replace(PLAN, max_target_atr=20.0))
    assert uncapped.targets[:2] == (110.0, 120.0) and uncapped.targets[2] == pytest.approx(100 + 4 * 5.375)
    close_zone = (zone(99.0, 99.5, ZoneKind.SUPPORT),)
    near = build_plan("X", Direction.LONG, 100.0, 1.0, close_zone, confidence=60, setup_type="x", timeframe="1h")
    assert near.stop == pytest.approx(98.5) and near.targets == pytest.approx((101.5, 103.0, 104.5))
    far_zone = (zone(80.0, 81.0, ZoneKind.SUPPORT),)
    far = build_plan("X", Direction.LONG, 100.0, 1.0, far_zone, confidence=60, setup_type="x", timeframe="1h")
    assert far.stop == pytest.approx(98.5) and "ATR away" in far.reasons[-1]
    short = build_plan("X", Direction.SHORT, 100.0, 1.0, zones[1:] + (zone(102.0, 103.0, ZoneKind.RESISTANCE),),
                       confidence=60, setup_type="x", timeframe="1h")
    assert short.stop == pytest.approx(103.25) and short.targets == pytest.approx((96.75, 93.5))  # 3R is 9.75 ATR: beyond the cap


@pytest.mark.parametrize("change,reason", [
    (dict(stop=101.0), "wrong side of entry"),
    (dict(targets=(99.0, 104.0, 106.0)), "target is on the wrong side"),
    (dict(risk_reward=1.2), "R:R 1.20 to T2 is below the minimum 1.5"),
    (dict(atr=math.nan), "no ATR"),
])
def test_prefilter_rejects_invalid_plans_with_the_reason(change, reason):
    good = TradePlan("X", Direction.LONG, 100.0, 98.0, (102.0, 104.0, 106.0), 2.0, 60.0, "breakout", "1h", 1.0)
    assert prefilter(good, price=100.0).ok
    check = prefilter(replace(good, **change), price=100.0)
    assert not check.ok and reason in check.reason
    assert prefilter(replace(good, confidence=5.0), price=100.0).ok  # confidence is an EXECUTE gate, not a plan rule
    assert not prefilter(good, price=100.0, data_age_s=11.0).ok


zone_strategy = st.builds(
    lambda low, width, score: (low, low + width, score),
    st.floats(50.0, 150.0), st.floats(0.0, 3.0), st.floats(0.0, 100.0))


@settings(max_examples=300, deadline=None)
@given(direction=st.sampled_from(list(Direction)), atr=st.floats(0.05, 5.0),
       raw_zones=st.lists(zone_strategy, max_size=8), equity=st.floats(0.0, 1e6))
def test_plan_invariants_hold_for_any_zones(direction, atr, raw_zones, equity):
    entry = 100.0
    zones = levels.rank_zones(tuple(levels.ZoneCandidate(lo, hi, 2, ("1d",), s / 100, ()) for lo, hi, s in
                                    sorted(raw_zones)), entry)
    plan = build_plan("X", direction, entry, atr, zones, confidence=50.0, setup_type="x", timeframe="1h",
                      sizing=replace(USD_ACCOUNT, spec=ContractSpec("X"), equity=equity))
    assert_protecting_stop(plan, zones)
    sign = direction.sign
    steps = [entry, *plan.targets]
    assert all(sign * (b - a) > 0 for a, b in zip(steps, steps[1:], strict=False))
    assert plan.risk_reward >= PLAN.min_target_r  # T2 is never closer than T1
    assert prefilter(plan, price=entry).ok == (plan.risk_reward >= PLAN.min_risk_reward)


def test_total_score_is_the_weighted_mean_of_available_components():
    parts = (ComponentScore("a", 20, 1.0, ()), ComponentScore("b", 60, -0.5, ()),
             ComponentScore("c", 20, 1.0, (), available=False))
    assert total_score(parts) == pytest.approx((20 - 30) / 80)
    assert total_score(()) == 0.0


def test_tunable_defaults_equal_the_params_defaults():
    values = TunableValues((*levels.TUNABLES, *orderflow.TUNABLES, *synthesis.TUNABLES, *risk.TUNABLES))
    assert AnalysisParams.from_tunables(values) == AnalysisParams()
    values.set("risk.risk_per_trade_pct", "0.5")  # one setting sizes the plan and the order
    assert AnalysisParams.from_tunables(values).plan.risk_per_trade_pct == 0.5
    values.set("sr.weight_1w", "9")
    values.set("orderflow.whale_tier_large_usd", "400000")
    values.set("signal.weight_sr", "30")
    changed = AnalysisParams.from_tunables(values)
    assert changed.levels.weight("1w") == 9.0 and changed.order_flow.tiers_usd[2] == 400_000.0
    assert changed.signal.weight_sr == 30.0
    names = [t.name for t in (*levels.TUNABLES, *orderflow.TUNABLES, *synthesis.TUNABLES)]
    assert len(names) == len(set(names))
    assert all(name.split(".")[0] in {"sr", "orderflow", "signal"} for name in names)
    assert not set(names) & set(RETIRED)
