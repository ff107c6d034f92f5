"""``analyse``: one pure pass over an ``AnalysisInput`` producing the full ``Analysis``.

Order: indicator states per timeframe -> S/R zones (memoised per higher-timeframe close when a
``ZoneMemo`` is given) -> price action on the setup timeframe -> order flow and micro-momentum ->
weighted components -> direction -> confirmation -> plan -> prefilter. Only candles closed by
``inp.ts_ms`` are read, so a replay or backtest gets the same answer the live bot would have.
"""

from __future__ import annotations

import math

from core.analysis.inputs import AnalysisInput
from core.analysis.levels import ZoneMemo, drawn_zones, find_zones
from core.analysis.momentum import Confirmation, confirm, micro_momentum
from core.analysis.orderflow import OrderFlowSummary, summarize_order_flow
from core.analysis.plan import build_plan, prefilter
from core.analysis.resample import close_end_ms, closed_until
from core.analysis.setups import NO_SETUP, PriceAction, detect_price_action
from core.analysis.states import IndicatorParams, TimeframeState, timeframe_state
from core.analysis.synthesis import (
    Analysis,
    AnalysisParams,
    ComponentScore,
    momentum_component,
    order_flow_component,
    price_action_component,
    sr_component,
    total_score,
    volume_component,
)
from core.models import HTF_INTERVALS, CandleArrays, Direction, TradePlan, Zone


def analyse(inp: AnalysisInput, params: AnalysisParams = AnalysisParams(), memo: ZoneMemo | None = None) -> Analysis:
    """Analyse one symbol at ``inp.ts_ms``. Deterministic: same input and params, same result."""
    states = timeframe_states(inp.htf, inp.ts_ms, params.indicators)
    return analyse_with(inp, params, states, _zones(inp, params, memo))


def analyse_with(inp: AnalysisInput, params: AnalysisParams, states: dict[str, TimeframeState],
                 zones: tuple[Zone, ...]) -> Analysis:
    """``analyse`` from its two costly parts, given: the timeframe states (``timeframe_states``) and the
    zones (``find_zones``). The backtester's batched path (``core.backtest.series``) supplies them."""
    setup_interval = params.signal.setup_timeframe
    setup_candles = closed_until(inp.htf[setup_interval], inp.ts_ms) if setup_interval in inp.htf else None
    setup_state = states.get(setup_interval)
    action = detect_price_action(setup_candles, zones, setup_state, params.setups) \
        if setup_candles is not None else NO_SETUP
    flow = _order_flow(inp, params)
    micro = micro_momentum(closed_until(inp.seconds, inp.ts_ms), params.micro) if inp.seconds is not None else None
    components = _components(states, setup_state, setup_candles, zones, action, flow, inp.price, params)
    total = total_score(components)
    threshold = params.signal.direction_threshold
    direction = None if abs(total) < threshold or total == 0 else (Direction.LONG if total > 0 else Direction.SHORT)
    confirmation = confirm(direction, flow.verdict if flow is not None else None, micro)
    confidence = _confidence(total, confirmation.status, params)
    setup_type = _setup_type(direction, action, setup_state)
    reasons = _reasons(components, total, threshold, direction)
    problems = data_problems(inp, setup_candles, setup_state, params)
    atr = setup_state.atr if setup_state is not None else math.nan
    candidate, plan, rejection = _plan(inp, direction, atr, zones, confidence, setup_type, reasons, problems,
                                       total, params)
    return Analysis(inp.symbol, inp.ts_ms, inp.price, inp.source, zones,
                    tuple(states[i] for i in HTF_INTERVALS if i in states), action, flow, micro, confirmation,
                    components, round(total, 6), direction, setup_type, confidence, reasons, plan, rejection,
                    candidate, drawn_zones(zones, params.levels.max_zones))


def timeframe_states(htf: dict[str, CandleArrays], ts_ms: int,
                     params: IndicatorParams = IndicatorParams()) -> dict[str, TimeframeState]:
    """Indicator state of every higher timeframe present, from candles closed by ``ts_ms``."""
    states = {}
    for interval in HTF_INTERVALS:
        if interval in htf:
            state = timeframe_state(closed_until(htf[interval], ts_ms), params)
            if state is not None:
                states[interval] = state
    return states


def data_problems(inp: AnalysisInput, setup_candles: CandleArrays | None, setup_state: TimeframeState | None,
                  params: AnalysisParams) -> tuple[str, ...]:
    """Reasons the data cannot support a plan (missing or stale setup candles, bad price)."""
    interval = params.signal.setup_timeframe
    if not (inp.price > 0):
        return (f"price {inp.price!r} is not usable",)
    if setup_candles is None or setup_state is None or len(setup_candles) < 2:
        return (f"no {interval} candles",)
    end = int(close_end_ms(setup_candles.open_time_ms[-1:], interval)[0])
    length = end - int(setup_candles.open_time_ms[-1])
    if inp.ts_ms - end > params.signal.stale_after_candles * length:
        return (f"{interval} candles are stale (last closed {(inp.ts_ms - end) / 60_000:.0f} min ago)",)
    return ()


def _zones(inp: AnalysisInput, params: AnalysisParams, memo: ZoneMemo | None) -> tuple[Zone, ...]:
    if memo is not None:
        return memo.zones(inp.symbol, inp.htf, inp.price, inp.ts_ms, params.levels)
    return find_zones(inp.htf, inp.price, inp.ts_ms, params.levels)


def _order_flow(inp: AnalysisInput, params: AnalysisParams) -> OrderFlowSummary | None:
    if not inp.has_order_flow or (inp.trades is None and inp.book is None):
        return None
    return summarize_order_flow(inp.trades, inp.book, inp.ts_ms, inp.seconds, inp.minutes, params.order_flow)


def _plan(inp: AnalysisInput, direction: Direction | None, atr: float, zones: tuple[Zone, ...],
          confidence: float, setup_type: str, reasons: tuple[str, ...], problems: tuple[str, ...], total: float,
          params: AnalysisParams) -> tuple[TradePlan | None, TradePlan | None, str | None]:
    """(candidate plan, accepted plan, rejection reason)."""
    if direction is None:
        threshold = params.signal.direction_threshold
        return None, None, "; ".join((f"no trade: total score {total:+.2f} is within +-{threshold:g}", *problems))
    candidate = build_plan(inp.symbol, direction, inp.price, atr, zones, confidence=confidence,
                           setup_type=setup_type, timeframe=params.signal.setup_timeframe, sizing=inp.sizing,
                           ts_ms=inp.ts_ms, reasons=reasons, params=params.plan)
    check = prefilter(candidate, price=inp.price, data_age_s=inp.data_age_s, params=params.plan)
    failures = (*problems, *check.reasons)
    return (candidate, None, "; ".join(failures)) if failures else (candidate, candidate, None)



def _components(states: dict[str, TimeframeState], setup_state: TimeframeState | None,
                setup_candles: CandleArrays | None, zones: tuple[Zone, ...], action: PriceAction,
                flow: OrderFlowSummary | None, price: float, params: AnalysisParams) -> tuple[ComponentScore, ...]:
    signal = params.signal
    has_candle = setup_candles is not None and len(setup_candles) > 0
    move = float(setup_candles.close[-1] - setup_candles.open[-1]) if has_candle else 0.0
    return (price_action_component(action, signal.weight_price_action),
            momentum_component(states, params),
            volume_component(setup_state, move, signal.weight_volume),
            sr_component(zones, price, signal.weight_sr),
            order_flow_component(flow, signal.weight_order_flow))


def _confidence(total: float, status: Confirmation, params: AnalysisParams) -> float:
    confidence = 100.0 * abs(total)
    if status is Confirmation.CONFIRMS:
        confidence += params.signal.confirm_bonus
    elif status is Confirmation.CONTRADICTS:
        confidence -= params.signal.contradict_penalty
    return round(max(0.0, min(100.0, confidence)), 1)


def _setup_type(direction: Direction | None, action: PriceAction, state: TimeframeState | None) -> str:
    if direction is None:
        return "none"
    if action.direction == direction.sign:
        return action.setup_type
    trend = state.trend if state is not None else "sideways"
    if (trend == "up" and direction is Direction.LONG) or (trend == "down" and direction is Direction.SHORT):
        return "trend_continuation"
    return "counter_trend" if trend != "sideways" else "range"


def _reasons(components: tuple[ComponentScore, ...], total: float, threshold: float,
             direction: Direction | None) -> tuple[str, ...]:
    used = sorted((c for c in components if c.available), key=lambda c: -abs(c.weight * c.score))
    head = (f"{direction.value} score {total:+.2f}" if direction is not None
            else f"score {total:+.2f} inside +-{threshold:g}")
    return (head, *(f"{c.name.replace('_', ' ')} {c.score:+.2f}: {c.reasons[0]}" for c in used if c.reasons))

