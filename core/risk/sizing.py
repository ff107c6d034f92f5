"""Position sizing: risk a percent of equity between entry and stop, within the broker's limits."""

from __future__ import annotations

from dataclasses import dataclass

from core.execution import ContractSpec, floor_to_step
from core.risk.gates import Allowed, Denied, GateResult


@dataclass(frozen=True, slots=True)
class Sizing:
    volume: float  # in the spec's lots (base units when contract_size is 1)
    risk_account: float  # account currency lost if the stop is hit (before slippage)
    risk_pct: float  # the same, in percent of equity
    units: float = 0.0  # volume x contract size: base units (dollars of USDJPY, ounces of XAUUSD)


def position_size(equity: float, risk_pct: float, entry: float, stop: float, spec: ContractSpec, *,
                  quote_to_account: float) -> Sizing | Denied:
    """Volume that loses ``risk_pct`` of ``equity`` (account currency) at the stop, rounded down to
    the volume step and capped at the maximum; Denied when even the minimum volume would risk more.

    ``quote_to_account`` converts the symbol's quote currency into the account currency (1 for
    BTCUSD, EURUSD, XAUUSD on a USD account; 1/USDJPY for USDJPY): ``core.money`` gives it.
    """
    distance = abs(entry - stop)
    if distance <= 0 or equity <= 0 or risk_pct <= 0:
        return Denied(f"cannot size {spec.symbol}: needs positive equity, risk and stop distance", "size")
    loss_per_volume = distance * spec.contract_size * quote_to_account
    wanted = equity * risk_pct / 100.0 / loss_per_volume
    volume = floor_to_step(min(wanted, spec.volume_max), spec.volume_step)
    if volume <= 0 or volume < spec.volume_min:
        minimum_risk = spec.volume_min * loss_per_volume / equity * 100.0
        return Denied(f"size {wanted:.4g} is below the broker minimum {spec.volume_min:g} for {spec.symbol}: "
                      f"the minimum would risk {minimum_risk:.2f}% (limit {risk_pct:g}%)", "size")
    risk_account = volume * loss_per_volume
    return Sizing(volume=volume, risk_account=risk_account, risk_pct=risk_account / equity * 100.0,
                  units=volume * spec.contract_size)


def check_size(sizing: Sizing | Denied) -> GateResult:
    if isinstance(sizing, Denied):
        return sizing
    return Allowed("size", f"size {sizing.volume:g} risks {sizing.risk_account:.2f} ({sizing.risk_pct:.2f}%)")
