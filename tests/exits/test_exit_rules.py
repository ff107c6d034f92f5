"""The exit state machine, step by step."""

from __future__ import annotations

from dataclasses import fields

import pytest

from core.exits import (
    TUNABLES,
    CloseAll,
    ClosePartial,
    ExitParams,
    ExitStage,
    ManagedPosition,
    ModifyStop,
    evaluate,
    managed_from_plan,
    stop_exit_reason,
)
from core.models import Direction, Fill, TradePlan
from core.tunables import TunableValues

T0 = 1_700_000_000_000
PARAMS = ExitParams()  # 50% at T1, breakeven + 0.05 ATR, trail 2 ATR in steps of 0.1 ATR


def long_position(**changes: object) -> ManagedPosition:
    fields: dict = dict(ticket=7, symbol="BTCUSD", direction=Direction.LONG, entry=100.0, stop=95.0,
                        targets=(105.0, 115.0, 125.0), atr=3.0, volume=2.0, opened_ts_ms=T0,
                        take_profit=125.0)
    fields.update(changes)
    return ManagedPosition(**fields)


def at(position: ManagedPosition, price: float, ts_ms: int = T0, params: ExitParams = PARAMS):
    return evaluate(position, price, price, ts_ms, params)


def test_nothing_happens_between_stop_and_target() -> None:
    decision = at(long_position(), 104.9)
    assert decision.actions == ()
    assert decision.state == long_position()


def test_target_1_closes_half_and_moves_the_stop_to_breakeven() -> None:
    decision = at(long_position(), 105.0)

    assert decision.actions == (ClosePartial(7, 1.0, "target 1"), ModifyStop(7, 100.15, 125.0, "breakeven"))
    assert decision.state == long_position(stage=ExitStage.RUNNER, targets_hit=1, volume=1.0, stop=100.15,
                                           best_price=105.0, stop_reason="breakeven")
    assert [s.volume for s in decision.after] == [1.0, 1.0]
    assert [s.stop for s in decision.after] == [95.0, 100.15]  # commit step by step


def test_the_trail_ratchets_only_forward_and_in_steps() -> None:
    runner = at(long_position(), 105.0).state
    moves = []
    for price in (106.0, 108.0, 108.2, 108.4, 107.0, 110.0, 109.0):
        decision = at(runner, price)
        runner = decision.state
        moves += [(price, a.stop_loss, a.reason) for a in decision.actions if isinstance(a, ModifyStop)]

    # 106 -> 100 (below breakeven): no move; 108.2 -> 102.2 is only 0.2 (< 0.3 = 0.1 ATR) past 102
    assert moves == [(108.0, 102.0, "trailing"), (108.4, 102.4, "trailing"), (110.0, 104.0, "trailing")]
    assert runner.best_price == 110.0 and runner.stop == 104.0


def test_price_through_the_trailing_stop_closes_everything() -> None:
    runner = long_position(stage=ExitStage.RUNNER, targets_hit=1, volume=1.0, stop=104.0, best_price=110.0)
    decision = at(runner, 103.9)
    assert decision.actions == (CloseAll(7, "trailing stop"),)
    assert decision.state.stage is ExitStage.CLOSED


def test_initial_stop_is_a_safety_net() -> None:
    assert at(long_position(), 95.0).actions == (CloseAll(7, "stop loss"),)


def test_each_stop_exit_says_which_stop_it_was() -> None:
    runner = at(long_position(), 105.0).state  # target 1: stop at breakeven
    assert stop_exit_reason(runner) == "breakeven stop"
    assert at(runner, 100.1).actions == (CloseAll(7, "breakeven stop"),)
    trailed = at(runner, 110.0).state  # the stop trails to 104, in profit
    assert trailed.stop == 104.0 and stop_exit_reason(trailed) == "trailing stop"
    assert at(trailed, 103.9).actions == (CloseAll(7, "trailing stop"),)
    assert stop_exit_reason(long_position()) == "stop loss"
    restored = ManagedPosition.from_dict(trailed.to_dict())  # survives a restart
    assert stop_exit_reason(restored) == "trailing stop"


def test_three_targets_in_one_gap() -> None:
    decision = at(long_position(), 126.0)
    assert decision.actions == (ClosePartial(7, 1.0, "target 1"), ClosePartial(7, 0.5, "target 2"),
                                CloseAll(7, "target 3"))
    assert [(s.targets_hit, s.volume) for s in decision.after] == [(1, 1.0), (2, 0.5), (3, 0.0)]


def test_target_2_of_two_closes_the_rest() -> None:
    runner = at(long_position(targets=(105.0, 115.0)), 105.0).state
    decision = at(runner, 115.5)
    assert decision.actions == (CloseAll(7, "target 2"),)


def test_a_single_target_leaves_a_trailing_runner() -> None:
    runner = at(long_position(targets=(105.0,)), 105.0).state
    decision = at(runner, 130.0)
    assert decision.actions == (ModifyStop(7, 124.0, 125.0, "trailing"),)


def test_partial_volume_respects_the_broker_step() -> None:
    decision = at(long_position(volume=0.03, volume_step=0.01, volume_min=0.01), 105.0)
    assert decision.actions[0] == ClosePartial(7, 0.01, "target 1")
    assert decision.state.volume == pytest.approx(0.02)


def test_a_minimum_lot_is_not_split_but_still_protected() -> None:
    decision = at(long_position(volume=0.01, volume_step=0.01, volume_min=0.01), 105.0)
    assert decision.actions == (ModifyStop(7, 100.15, 125.0, "breakeven"),)
    assert decision.state.volume == 0.01 and decision.state.targets_hit == 1


def test_closing_everything_at_target_1() -> None:
    decision = at(long_position(), 105.0, params=ExitParams(tp1_close_pct=100.0))
    assert decision.actions == (CloseAll(7, "target 1"),)


def test_trailing_can_be_switched_off() -> None:
    runner = at(long_position(targets=(105.0,)), 105.0, params=ExitParams(trailing_enabled=False)).state
    assert at(runner, 140.0, params=ExitParams(trailing_enabled=False)).actions == ()


@pytest.mark.parametrize(("minutes_later", "stage", "closes"), [
    (59, ExitStage.INITIAL, False), (60, ExitStage.INITIAL, True), (600, ExitStage.RUNNER, False),
])
def test_time_stop_only_before_target_1(minutes_later: int, stage: ExitStage, closes: bool) -> None:
    position = long_position(stage=stage, targets_hit=int(stage is ExitStage.RUNNER), stop=100.15,
                             best_price=105.0)
    decision = at(position, 103.0, T0 + minutes_later * 60_000, ExitParams(time_stop_minutes=60))
    assert (decision.actions == (CloseAll(7, "time stop"),)) is closes


def test_a_short_mirrors_the_long() -> None:
    short = ManagedPosition(ticket=8, symbol="ETHUSD", direction=Direction.SHORT, entry=200.0, stop=206.0,
                            targets=(194.0, 188.0), atr=4.0, volume=1.0, opened_ts_ms=T0)
    first = evaluate(short, 193.8, 194.0, T0, PARAMS)  # a short closes at the ask
    assert first.actions == (ClosePartial(8, 0.5, "target 1"), ModifyStop(8, 199.8, None, "breakeven"))
    trailed = evaluate(first.state, 189.0, 189.2, T0, PARAMS)
    assert trailed.actions == (ModifyStop(8, 197.2, None, "trailing"),)


def test_closed_positions_stay_closed() -> None:
    closed = long_position(stage=ExitStage.CLOSED, volume=0.0)
    assert at(closed, 50.0).actions == ()


def test_state_round_trips_through_a_dict() -> None:
    runner = at(long_position(), 105.0).state
    assert ManagedPosition.from_dict(runner.to_dict()) == runner


def test_managed_from_plan_takes_the_fill_and_the_plan() -> None:
    fill = Fill(ticket=3, symbol="XAUUSD", direction=Direction.LONG, volume=0.4, price=2001.0, ts_ms=T0)
    plan = TradePlan(symbol="XAUUSD", direction=Direction.LONG, entry=2000.0, stop=1990.0,
                     targets=(2010.0, 2020.0, 2030.0), risk_reward=2.0, confidence=70.0,
                     setup_type="breakout",
                     timeframe="1h", atr=6.0)
    managed = managed_from_plan(fill, plan, take_profit=2030.0, volume_step=0.01, volume_min=0.01)
    assert (managed.entry, managed.stop, managed.targets, managed.atr) == (2001.0, 1990.0, plan.targets, 6.0)
    assert (managed.volume, managed.opened_ts_ms, managed.take_profit) == (0.4, T0, 2030.0)


def test_params_come_from_the_tunables() -> None:
    values = TunableValues(TUNABLES)
    assert {f"exits.{f.name}" for f in fields(ExitParams)} == {t.name for t in TUNABLES}
    assert ExitParams.from_values(values.snapshot()) == ExitParams()
    values.set("exits.tp1_close_pct", "30")
    values.set("exits.time_stop_minutes", "240")
    assert ExitParams.from_values(values.snapshot()) == ExitParams(tp1_close_pct=30.0, time_stop_minutes=240)
