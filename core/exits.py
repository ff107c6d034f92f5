"""Intelligent exits: a pure state machine over one managed position.

Rules (numbers from the ``exits.*`` tunables):
- Target 1: close ``tp1_close_pct`` (default 50%) and move the stop to breakeven plus
  ``breakeven_buffer_atr`` x ATR.
- After target 1 the stop trails ``trail_atr_multiple`` x ATR behind the best price since target 1,
  only ever in the profitable direction, and only in moves of at least ``trail_step_atr`` x ATR (so
  an MT5 server is not flooded with modifications).
- With three targets, target 2 closes ``tp2_close_pct`` of what is left and target 3 closes the
  rest; with two, target 2 closes the rest; with one, the runner trails until stopped.
- Optional time stop: close everything after ``time_stop_minutes`` if target 1 was not reached.
- A price through the stop closes everything (a safety net: the broker's own stop loss normally
  acts first). Its reason says which stop it was (``stop_exit_reason``): "stop loss" before target
  1, "breakeven stop" once moved to breakeven, "trailing stop" once trailed, so a profitable exit by
  a trailed stop is never reported as a stop loss (the same applies when the broker's stop fills).
Prices are the ones the position closes at: the bid for a long, the ask for a short.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from core.execution import floor_to_step
from core.models import Direction, Fill, TradePlan
from core.tunables import Tunable, params_from_values

TUNABLES: tuple[Tunable, ...] = (
    Tunable("exits.tp1_close_pct", float, 50.0, "share of the position closed at target 1", 0, 100, unit="%"),
    Tunable("exits.tp2_close_pct", float, 50.0, "share of what is left closed at target 2 (when there is a "
            "target 3)", 0, 100, unit="%"),
    Tunable("exits.breakeven_buffer_atr", float, 0.05,
            "stop moved to entry plus this many ATRs at target 1", 0, 2, unit="ATR"),
    Tunable("exits.trailing_enabled", bool, True, "trail the stop after target 1"),
    Tunable("exits.trail_atr_multiple", float, 2.0, "trailing stop distance behind the best price", 0.1, 20,
            unit="ATR"),
    Tunable("exits.trail_step_atr", float, 0.1,
            "smallest trailing move sent to the broker", 0, 5, unit="ATR"),
    Tunable("exits.time_stop_minutes", int, 0, "close a trade that has not reached target 1 after this long "
            "(0 = off)", 0, 100_000, unit="min"),
)


@dataclass(frozen=True, slots=True)
class ExitParams:
    """The ``exits.*`` tunables as typed values; defaults equal the tunable defaults."""

    tp1_close_pct: float = 50.0
    tp2_close_pct: float = 50.0
    breakeven_buffer_atr: float = 0.05
    trailing_enabled: bool = True
    trail_atr_multiple: float = 2.0
    trail_step_atr: float = 0.1
    time_stop_minutes: int = 0

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ExitParams:
        return params_from_values(cls, "exits", values)


class ExitStage(StrEnum):
    INITIAL = "initial"  # before target 1
    RUNNER = "runner"  # target 1 reached: stop at breakeven or trailing
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ManagedPosition:
    ticket: int
    symbol: str
    direction: Direction
    entry: float
    stop: float  # the stop as the broker holds it
    targets: tuple[float, ...]  # T1..T3, nearest first
    atr: float
    volume: float
    opened_ts_ms: int
    take_profit: float | None = None  # the broker-side TP, kept when the stop moves
    volume_step: float = 0.0  # broker volume rules for partial closes (0: any volume)
    volume_min: float = 0.0
    stage: ExitStage = ExitStage.INITIAL
    targets_hit: int = 0
    best_price: float = 0.0  # best closing price since target 1
    stop_reason: str = ""  # why the stop is where it is: "" (the plan's), "breakeven" or "trailing"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"targets": list(self.targets)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ManagedPosition:
        return cls(**{**data, "direction": Direction(data["direction"]), "stage": ExitStage(data["stage"]),
                      "targets": tuple(data["targets"])})


def managed_from_plan(fill: Fill, plan: TradePlan, *, take_profit: float | None = None,
                      volume_step: float = 0.0,
                      volume_min: float = 0.0) -> ManagedPosition:
    """Managed state for a position just opened (``fill``) from ``plan``."""
    return ManagedPosition(ticket=fill.ticket, symbol=fill.symbol, direction=fill.direction, entry=fill.price,
                           stop=plan.stop, targets=tuple(plan.targets), atr=plan.atr, volume=fill.volume,
                           opened_ts_ms=fill.ts_ms, take_profit=take_profit, volume_step=volume_step,
                           volume_min=volume_min)


@dataclass(frozen=True, slots=True)
class ClosePartial:
    ticket: int
    volume: float
    reason: str  # "target 1"


@dataclass(frozen=True, slots=True)
class ModifyStop:
    ticket: int
    stop_loss: float
    take_profit: float | None
    reason: str  # "breakeven" | "trailing"


@dataclass(frozen=True, slots=True)
class CloseAll:
    ticket: int
    reason: str  # "target 3" | "stop loss" | "breakeven stop" | "trailing stop" | "time stop"


ExitAction = ClosePartial | ModifyStop | CloseAll


@dataclass(frozen=True, slots=True)
class ExitDecision:
    """The new state, the actions to apply in order, and the state after each action (commit
    ``after[i]`` once ``actions[i]`` succeeded; ``state`` once all did)."""

    state: ManagedPosition
    actions: tuple[ExitAction, ...] = ()
    after: tuple[ManagedPosition, ...] = ()


def evaluate(position: ManagedPosition, bid: float, ask: float, ts_ms: int,
             params: ExitParams) -> ExitDecision:
    """Decide what to do at this price and time (the state machine; see the module docstring)."""
    if position.stage is ExitStage.CLOSED:
        return ExitDecision(position)
    price = bid if position.direction is Direction.LONG else ask
    sign = position.direction.sign
    if sign * (price - position.stop) <= 0:
        return _close_all(position, stop_exit_reason(position))
    age_ms = ts_ms - position.opened_ts_ms
    timed_out = params.time_stop_minutes > 0 and age_ms >= params.time_stop_minutes * 60_000
    if position.stage is ExitStage.INITIAL and timed_out:
        return _close_all(position, "time stop")
    actions: list[ExitAction] = []
    after: list[ManagedPosition] = []
    state = position
    while state.targets_hit < len(state.targets) and sign * (price - state.targets[state.targets_hit]) >= 0:
        state, action = _take_target(state, price, params)
        if action is None:
            continue
        actions.append(action)
        after.append(state)
        if isinstance(action, CloseAll):
            return ExitDecision(state, tuple(actions), tuple(after))
    if state.stage is ExitStage.RUNNER:
        state, move = _move_stop(state, price, params, first=position.stage is ExitStage.INITIAL)
        if isinstance(move, CloseAll):
            return ExitDecision(state, (*actions, move), (*after, state))
        if move is not None:
            actions.append(move)
            after.append(state)
    return ExitDecision(state, tuple(actions), tuple(after))


def stop_exit_reason(position: ManagedPosition) -> str:
    """What closing at the position's current stop is: a stop loss, a breakeven or a trailing exit."""
    if position.stop_reason == "trailing":
        return "trailing stop"
    if position.stop_reason == "breakeven":
        return "breakeven stop"
    in_profit = position.direction.sign * (position.stop - position.entry) > 0
    if position.stage is ExitStage.RUNNER and in_profit:  # a state saved before stop_reason was kept
        return "trailing stop"
    return "stop loss"


def _close_all(position: ManagedPosition, reason: str) -> ExitDecision:
    closed = replace(position, stage=ExitStage.CLOSED, volume=0.0)
    return ExitDecision(closed, (CloseAll(position.ticket, reason),), (closed,))


def _take_target(state: ManagedPosition, price: float,
                 params: ExitParams) -> tuple[ManagedPosition, ClosePartial | CloseAll | None]:
    number = state.targets_hit + 1
    reason = f"target {number}"
    is_last = number == len(state.targets)
    if number == 1:
        share = params.tp1_close_pct
    else:
        share = 100.0 if is_last else params.tp2_close_pct
    volume = floor_to_step(state.volume * share / 100.0, state.volume_step)
    remaining = state.volume - volume
    if share >= 100.0 or remaining <= 1e-12 or remaining < state.volume_min:
        closed = replace(state, stage=ExitStage.CLOSED, targets_hit=number, volume=0.0)
        return closed, CloseAll(state.ticket, reason)
    best = price if number == 1 else state.best_price
    next_state = replace(state, stage=ExitStage.RUNNER, targets_hit=number, best_price=best)
    if volume <= 0 or volume < state.volume_min:  # too small to split: keep it all as the runner
        return next_state, None
    return replace(next_state, volume=round(remaining, 10)), ClosePartial(state.ticket, volume, reason)


def _move_stop(state: ManagedPosition, price: float, params: ExitParams,
               first: bool) -> tuple[ManagedPosition, ExitAction | None]:
    """Breakeven at target 1, then the ATR trail; the stop only ever tightens.

    Runs on every price of a runner, so it builds at most one new state (none when nothing moved).
    """
    sign = state.direction.sign
    best = price if sign * (price - state.best_price) > 0 else state.best_price
    stop, reason = state.entry + sign * params.breakeven_buffer_atr * state.atr, "breakeven"
    trail = best - sign * params.trail_atr_multiple * state.atr
    if params.trailing_enabled and sign * (trail - stop) > 0:
        stop, reason = trail, "trailing"
    improvement = sign * (stop - state.stop)
    small_step = not first and reason == "trailing" and improvement < params.trail_step_atr * state.atr
    if improvement <= 0 or small_step:
        return (state if best == state.best_price else replace(state, best_price=best)), None
    if sign * (price - stop) <= 0:  # the price is already through the new stop
        closed = replace(state, stage=ExitStage.CLOSED, volume=0.0, best_price=best)
        return closed, CloseAll(state.ticket, f"{reason} stop")
    moved = replace(state, stop=stop, best_price=best, stop_reason=reason)
    return moved, ModifyStop(state.ticket, stop, state.take_profit, reason)
