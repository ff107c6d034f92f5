"""Signal synthesis: five weighted components -> a direction (or no trade) -> a checked trade plan.

Components, each a score from -1 (bearish) to +1 (bullish), default weights 20/20/15/25/20:
- price_action: the setup on the last closed setup-timeframe candle (``core.analysis.setups``).
- momentum: timeframe scores (``TimeframeState.score``) of 1h/4h/1d averaged with the S/R
  timeframe weights (2/3/5).
- volume: 0.6 x candle direction x clip(volume z-score / 3, 0, 1) + 0.4 x (OBV above its EMA20
  ? +1 : -1) on the setup timeframe.
- sr: (score of the nearest support - score of the nearest resistance) / 100.
- order_flow: the order-flow verdict score (``core.analysis.orderflow``); left out, and the other
  weights renormalised, when the symbol has no order flow (e.g. a forex symbol on MT5).
Total = sum(weight x score) / sum(weights of available components). |total| >= 0.15 gives a
direction. Confidence = 100 x |total|, +10 when order flow and micro-momentum confirm, -15 when
they contradict, clipped to 0..100. The plan and prefilter rules are in ``core.analysis.plan``;
``core.analysis.engine.analyse`` runs everything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.analysis.levels import LevelParams, distance_to_zone, nearest_resistance, nearest_support
from core.analysis.momentum import ConfirmationResult, MicroMomentum, MomentumParams
from core.analysis.orderflow import OrderFlowParams, OrderFlowSummary
from core.analysis.plan import PlanParams
from core.analysis.setups import PriceAction, SetupParams
from core.analysis.states import IndicatorParams, TimeframeState
from core.models import HTF_INTERVALS, DataSource, Direction, TradePlan, Zone
from core.tunables import Tunable

COMPONENTS: tuple[str, ...] = ("price_action", "momentum", "volume", "sr", "order_flow")

TUNABLES: tuple[Tunable, ...] = (
    Tunable("signal.weight_price_action", float, 20.0, "weight of price action (breakout/rejection)", 0, 100),
    Tunable("signal.weight_momentum", float, 20.0, "weight of RSI/MACD/trend across timeframes", 0, 100),
    Tunable("signal.weight_volume", float, 15.0, "weight of volume and OBV", 0, 100),
    Tunable("signal.weight_sr", float, 25.0, "weight of higher-timeframe S/R confluence", 0, 100),
    Tunable("signal.weight_order_flow", float, 20.0, "weight of order flow", 0, 100),
    Tunable("signal.direction_threshold", float, 0.15, "|total score| needed for a direction", 0.0, 1.0),
    Tunable("signal.min_risk_reward", float, 1.5, "plans below this R:R (to T2, or T1 when it is the only "
            "target) are rejected", 0.1, 20.0),
    Tunable("signal.stop_atr_multiple", float, 1.5, "stop at least this many ATRs from entry", 0.1, 20.0,
            unit="ATR"),
    Tunable("signal.stop_buffer_atr", float, 0.25, "stop this far beyond the protecting zone", 0.0, 5.0,
            unit="ATR"),
    Tunable("signal.max_stop_atr", float, 4.0, "ignore protecting zones further than this", 0.5, 50.0,
            unit="ATR"),
    Tunable("signal.min_target_r", float, 1.0, "zone targets closer than this many R are skipped", 0.1, 10.0,
            unit="R"),
    Tunable("signal.max_data_age_s", float, 10.0, "plans are rejected when live data is older", 0.5, 3_600.0,
            unit="s"),
    Tunable("signal.max_target_atr", float, 8.0, "no target further than this many setup-timeframe ATRs from "
            "entry; R:R counts only targets within", 1.0, 100.0, unit="ATR"),
    Tunable("signal.setup_timeframe", str, "1h", "timeframe of price action, ATR and volume",
            choices=HTF_INTERVALS),
    Tunable("signal.confirm_bonus", float, 10.0, "confidence added when order flow and micro-momentum confirm",
            0, 50),
    Tunable("signal.contradict_penalty", float, 15.0, "confidence removed when they contradict", 0, 100),
    Tunable("signal.micro_horizon_s", int, 10, "horizon of 1 s micro-momentum", 2, 600, unit="s"),
)


@dataclass(frozen=True, slots=True)
class SignalParams:
    weight_price_action: float = 20.0
    weight_momentum: float = 20.0
    weight_volume: float = 15.0
    weight_sr: float = 25.0
    weight_order_flow: float = 20.0
    direction_threshold: float = 0.15
    confirm_bonus: float = 10.0
    contradict_penalty: float = 15.0
    setup_timeframe: str = "1h"
    momentum_timeframes: tuple[str, ...] = ("1h", "4h", "1d")
    stale_after_candles: float = 2.0  # setup candles older than this many intervals are stale

    def weight(self, component: str) -> float:
        return float(getattr(self, f"weight_{component}"))


@dataclass(frozen=True, slots=True)
class AnalysisParams:
    levels: LevelParams = LevelParams()
    order_flow: OrderFlowParams = OrderFlowParams()
    indicators: IndicatorParams = IndicatorParams()
    setups: SetupParams = SetupParams()
    plan: PlanParams = PlanParams()
    signal: SignalParams = SignalParams()
    micro: MomentumParams = MomentumParams()

    @classmethod
    def from_tunables(cls, values: Mapping[str, Any]) -> AnalysisParams:
        """All analysis params from a ``TunableValues`` (or a mapping of the sr/orderflow/signal names)."""
        def get(name: str) -> Any:
            return values[f"signal.{name}"]

        signal = SignalParams(**{f"weight_{c}": get(f"weight_{c}") for c in COMPONENTS},
                              direction_threshold=get("direction_threshold"), confirm_bonus=get("confirm_bonus"),
                              contradict_penalty=get("contradict_penalty"), setup_timeframe=get("setup_timeframe"))
        plan = PlanParams(**{name: get(name) for name in (
            "stop_atr_multiple", "stop_buffer_atr", "max_stop_atr", "min_target_r", "min_risk_reward",
            "max_data_age_s", "max_target_atr")}, risk_per_trade_pct=values["risk.risk_per_trade_pct"])
        return cls(levels=LevelParams.from_tunables(values), order_flow=OrderFlowParams.from_tunables(values),
                   plan=plan, signal=signal, micro=MomentumParams(horizon_s=get("micro_horizon_s")))


@dataclass(frozen=True, slots=True)
class ComponentScore:
    name: str
    weight: float
    score: float  # -1..+1
    reasons: tuple[str, ...]
    available: bool = True


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the signal card and charts need about one symbol at one moment."""

    symbol: str
    ts_ms: int
    price: float
    source: DataSource
    zones: tuple[Zone, ...]  # every qualifying zone, strongest first
    timeframes: tuple[TimeframeState, ...]  # in HTF_INTERVALS order, those with data
    price_action: PriceAction
    order_flow: OrderFlowSummary | None
    micro: MicroMomentum | None
    confirmation: ConfirmationResult
    components: tuple[ComponentScore, ...]
    total_score: float  # -1..+1
    direction: Direction | None
    setup_type: str
    confidence: float
    reasons: tuple[str, ...]  # why this direction, or why no trade
    plan: TradePlan | None  # None when there is no direction or the prefilter rejected it
    rejection: str | None  # the prefilter's (or the decision's) reason when plan is None
    candidate_plan: TradePlan | None = None  # the plan before the prefilter, for the journal
    drawn_zones: tuple[Zone, ...] = ()  # what charts draw: the sr.max_zones strongest + the nearest two

    def state(self, interval: str) -> TimeframeState | None:
        return next((s for s in self.timeframes if s.interval == interval), None)


# ---------------------------------------------------------------------------- components


def price_action_component(action: PriceAction, weight: float) -> ComponentScore:
    return ComponentScore("price_action", weight, action.score, (action.reason,))


def momentum_component(states: Mapping[str, TimeframeState], params: AnalysisParams) -> ComponentScore:
    parts = [(params.levels.weight(i), states[i]) for i in params.signal.momentum_timeframes if i in states]
    total_weight = sum(w for w, _ in parts)
    if not parts or total_weight <= 0:
        return ComponentScore("momentum", params.signal.weight_momentum, 0.0, ("no momentum data",), False)
    score = sum(w * s.score for w, s in parts) / total_weight
    reasons = tuple(f"{s.interval}: RSI {s.rsi:.0f} {s.rsi_state}, MACD {s.macd_state.replace('_', ' ')}, "
                    f"trend {s.trend}" for _, s in parts)
    return ComponentScore("momentum", params.signal.weight_momentum, score, reasons)


def volume_component(state: TimeframeState | None, last_candle_move: float, weight: float) -> ComponentScore:
    if state is None or math.isnan(state.volume_zscore):
        return ComponentScore("volume", weight, 0.0, ("not enough volume history",), False)
    direction = (last_candle_move > 0) - (last_candle_move < 0)
    volume_part = direction * max(0.0, min(1.0, state.volume_zscore / 3.0))
    obv_part = 0.0 if state.obv_rising is None else (1.0 if state.obv_rising else -1.0)
    reasons = (f"{state.interval} volume z {state.volume_zscore:+.1f} on a "
               f"{'green' if direction > 0 else 'red' if direction < 0 else 'flat'} candle",
               f"OBV {'above' if obv_part > 0 else 'below'} its average")
    return ComponentScore("volume", weight, 0.6 * volume_part + 0.4 * obv_part, reasons)


def sr_component(zones: tuple[Zone, ...], price: float, weight: float) -> ComponentScore:
    support, resistance = nearest_support(zones), nearest_resistance(zones)
    reasons = []
    for label, zone in (("support", support), ("resistance", resistance)):
        if zone is not None:
            away = distance_to_zone(zone.low, zone.high, price) / price * 100.0
            reasons.append(f"{label} {zone.low:g}-{zone.high:g} score {zone.score:.0f}, {zone.touches} touches "
                           f"({'/'.join(zone.timeframes)}), {away:.1f}% away")
    if not reasons:
        return ComponentScore("sr", weight, 0.0, ("no zones",), False)
    score = ((support.score if support else 0.0) - (resistance.score if resistance else 0.0)) / 100.0
    return ComponentScore("sr", weight, score, tuple(reasons))


def order_flow_component(summary: OrderFlowSummary | None, weight: float) -> ComponentScore:
    if summary is None:
        return ComponentScore("order_flow", weight, 0.0, ("no order flow for this symbol",), False)
    verdict = summary.verdict
    return ComponentScore("order_flow", weight, verdict.score, (f"order flow {verdict.bias}", *verdict.reasons))


def total_score(components: tuple[ComponentScore, ...]) -> float:
    """Weighted mean of the available components, -1..+1."""
    used = [c for c in components if c.available and c.weight > 0]
    weight = sum(c.weight for c in used)
    return sum(c.weight * c.score for c in used) / weight if weight > 0 else 0.0
