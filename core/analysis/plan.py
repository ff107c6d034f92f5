"""Trade plan construction (entry, stop, targets, size) and the prefilter that rejects bad plans.

Rules (defaults in ``PlanParams``; ``sign`` is +1 long, -1 short):
- Entry = the current price. ATR = ATR(14) of the setup timeframe.
- Stop: beyond the nearest protecting zone (long: below the nearest support's low; short: above
  the nearest resistance's high) by 0.25 ATR, and at least 1.5 ATR from entry. A protecting
  zone more than 4 ATR away is ignored and the stop is the 1.5 ATR one.
- Targets: the near edges of the opposing zones (long: resistance lows above entry) that are at
  least 1 R away, nearest first, at most three; missing targets are filled with whole R
  multiples beyond the last one (1R, 2R, 3R ... from entry). No target lies further than 8 ATR
  from entry (``max_target_atr``): on real BTC 1h plans a target 8 ATR away was reached before
  the stop about one time in five, one 20 ATR away one time in twenty. So a plan can have fewer
  than three targets.
- R:R = reward to T2 (or to T1 when only one target fits under the cap) / risk; ``reward_target``
  says which. Size (with ``PlanSizing``): the volume losing 1 % of equity at the stop in the account
  currency, as EXECUTE's size gate computes it (``core.risk.position_size``), or why there is none.
- Prefilter rejects, with every reason that applies: stop on the wrong side, a target on the
  wrong side, no target, R:R < 1.5 (saying when the cap is why), data older than 10 s, no ATR.
  Confidence and spread are EXECUTE gates (``risk.min_confidence``, ``risk.max_spread_bps``): a plan
  that fails them is shown as "watch only".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from core.analysis.inputs import PlanSizing
from core.analysis.levels import nearest_resistance, nearest_support
from core.models import Direction, TradePlan, Zone
from core.risk.gates import Denied
from core.risk.sizing import position_size


@dataclass(frozen=True, slots=True)
class PlanParams:
    stop_atr_multiple: float = 1.5
    stop_buffer_atr: float = 0.25
    max_stop_atr: float = 4.0
    min_target_r: float = 1.0
    min_risk_reward: float = 1.5
    risk_per_trade_pct: float = 1.0  # risk.risk_per_trade_pct: the same figure EXECUTE sizes with
    max_data_age_s: float = 10.0
    max_target_atr: float = 8.0


@dataclass(frozen=True, slots=True)
class PlanCheck:
    ok: bool
    reasons: tuple[str, ...]  # why the plan was rejected (empty when ok)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def stop_price(direction: Direction, entry: float, atr: float, zones: tuple[Zone, ...],
               params: PlanParams = PlanParams()) -> tuple[float, str]:
    """The stop and a sentence saying where it comes from."""
    sign = direction.sign
    atr_stop = entry - sign * params.stop_atr_multiple * atr
    protect = nearest_support(zones) if direction is Direction.LONG else nearest_resistance(zones)
    if protect is None:
        return atr_stop, f"stop {params.stop_atr_multiple:g} ATR away (no protecting zone)"
    edge = protect.low if direction is Direction.LONG else protect.high
    zone_stop = edge - sign * params.stop_buffer_atr * atr
    distance = sign * (entry - zone_stop)
    if distance > params.max_stop_atr * atr:
        return atr_stop, (f"stop {params.stop_atr_multiple:g} ATR away (zone {protect.low:g}-{protect.high:g} "
                          f"is {distance / atr:.1f} ATR away)")
    if distance < params.stop_atr_multiple * atr:
        return atr_stop, f"stop {params.stop_atr_multiple:g} ATR away, beyond zone {protect.low:g}-{protect.high:g}"
    return zone_stop, f"stop beyond zone {protect.low:g}-{protect.high:g} (+{params.stop_buffer_atr:g} ATR)"


def target_prices(direction: Direction, entry: float, risk: float, zones: tuple[Zone, ...],
                  params: PlanParams = PlanParams(), atr: float = math.inf) -> tuple[float, ...]:
    """Up to three zone targets at least ``min_target_r`` R away, filled with whole R multiples, none
    further than ``max_target_atr`` x ``atr`` from entry (so there may be fewer than three, or none)."""
    sign = direction.sign
    reach = params.max_target_atr * atr if atr > 0 else math.inf
    if direction is Direction.LONG:
        edges = sorted(z.low for z in zones if z.low > entry)
    else:
        edges = sorted((z.high for z in zones if z.high < entry), reverse=True)
    targets: list[float] = []
    for edge in edges:
        far_enough = sign * (edge - entry) >= params.min_target_r * risk
        within = sign * (edge - entry) <= reach
        if far_enough and within and len(targets) < 3 and (not targets or sign * (edge - targets[-1]) > 0):
            targets.append(edge)
    while len(targets) < 3:
        reached_r = sign * (targets[-1] - entry) / risk if targets else 0.0
        multiple = math.floor(reached_r + 1e-9) + 1
        if multiple * risk > reach * (1 + 1e-12):
            break
        targets.append(entry + sign * multiple * risk)
    return tuple(targets)


def reward_target(targets: tuple[float, ...]) -> int:
    """Which target (1-based) R:R is measured to: T2, or T1 when there is only one (0: none)."""
    return min(2, len(targets))


def build_plan(symbol: str, direction: Direction, entry: float, atr: float, zones: tuple[Zone, ...], *,
               confidence: float, setup_type: str, timeframe: str, sizing: PlanSizing | None = None,
               ts_ms: int = 0, reasons: tuple[str, ...] = (), params: PlanParams = PlanParams()) -> TradePlan:
    """A plan for ``direction`` at ``entry`` (the prefilter decides whether it is acceptable)."""
    stop, stop_reason = stop_price(direction, entry, atr, zones, params)
    risk = abs(entry - stop)
    targets = target_prices(direction, entry, risk, zones, params, atr) if risk > 0 else (entry,) * 3
    measured_to = reward_target(targets)
    reward = abs(targets[measured_to - 1] - entry) if measured_to else 0.0
    plan = TradePlan(symbol=symbol, direction=direction, entry=entry, stop=stop, targets=targets,
                     risk_reward=reward / risk if risk > 0 else 0.0, confidence=confidence,
                     setup_type=setup_type, timeframe=timeframe, atr=atr, risk_pct=params.risk_per_trade_pct,
                     created_ts_ms=ts_ms, reasons=(*reasons, stop_reason), reward_target=measured_to)
    return plan if sizing is None else sized(plan, sizing, params.risk_per_trade_pct)


def sized(plan: TradePlan, sizing: PlanSizing, risk_pct: float) -> TradePlan:
    """``plan`` with the size risking ``risk_pct`` of the equity, or the reason it has none."""
    if sizing.quote_to_account is None:
        return replace(plan, currency=sizing.currency, size_note=sizing.problem or "no rate into the account currency")
    size = position_size(sizing.equity, risk_pct, plan.entry, plan.stop, sizing.spec,
                         quote_to_account=sizing.quote_to_account)
    if isinstance(size, Denied):
        return replace(plan, currency=sizing.currency, size_note=size.reason)
    return replace(plan, size_volume=size.volume, size_units=size.units, risk_account=size.risk_account,
                   risk_pct=size.risk_pct, currency=sizing.currency)


def prefilter(plan: TradePlan, *, price: float, data_age_s: float = 0.0,
              params: PlanParams = PlanParams()) -> PlanCheck:
    """Reject invalid or poor plans; every failed rule is listed."""
    sign = plan.direction.sign
    reasons = []
    if not (plan.atr > 0):
        reasons.append("no ATR on the setup timeframe")
    if sign * (plan.entry - plan.stop) <= 0:
        reasons.append(f"stop {plan.stop:g} is on the wrong side of entry {plan.entry:g}")
    if not plan.targets:
        reasons.append(f"no target within {params.max_target_atr:g} ATR of entry (1 R is "
                       f"{plan.risk_per_unit / plan.atr:.1f} ATR)" if plan.atr > 0 else "no target")
    elif any(sign * (t - plan.entry) <= 0 for t in plan.targets):
        reasons.append("a target is on the wrong side of entry")
    if plan.targets and plan.risk_reward < params.min_risk_reward:
        capped = (f" (targets stop at {params.max_target_atr:g} ATR)"
                  if len(plan.targets) < 3 and plan.atr > 0 else "")
        reasons.append(f"R:R {plan.risk_reward:.2f} to T{plan.reward_target} is below the minimum "
                       f"{params.min_risk_reward:g}{capped}")
    if data_age_s > params.max_data_age_s:
        reasons.append(f"data is {data_age_s:.0f}s old (limit {params.max_data_age_s:g}s)")
    return PlanCheck(not reasons, tuple(reasons))
