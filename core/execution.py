"""Execution vocabulary shared by the broker adapters, risk sizing and exits.

Lives beside ``core.models`` (which stays untouched): a broker's contract rules for one symbol
(``ContractSpec``), the rounding every broker needs, the side check for stop-loss/take-profit
prices, and ``BrokerEvent`` (a fill plus why it happened) for fills the broker made on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from core.events import CloseReason
from core.models import Direction, Fill, OrderType

# ---------------------------------------------------------------------------- symbol rules


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """What a broker allows for one symbol; zero steps mean "no rule".

    ``volume`` is in lots (``contract_size`` base units per lot). The paper broker defaults to a
    contract size of 1, so its volume is in base units.
    """

    symbol: str
    digits: int = 8
    tick_size: float = 0.0  # smallest price change; 0 means 10**-digits
    contract_size: float = 1.0
    volume_min: float = 0.0
    volume_max: float = math.inf
    volume_step: float = 0.0
    stops_level_points: int = 0  # minimum distance of SL/TP/pending prices from the market
    freeze_level_points: int = 0

    @property
    def point(self) -> float:
        return 10.0 ** -self.digits

    @property
    def price_step(self) -> float:
        return self.tick_size if self.tick_size > 0 else self.point

    @property
    def min_stop_distance(self) -> float:
        return self.stops_level_points * self.point


def _decimals(step: float) -> int:
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def floor_to_step(value: float, step: float) -> float:
    """``value`` rounded down to a multiple of ``step``; within a millionth of a step counts as on it."""
    if step <= 0:
        return value
    return round(math.floor(value / step + 1e-6) * step, _decimals(step))


def normalize_volume(volume: float, spec: ContractSpec) -> float:
    """Volume rounded down to the step and checked against the limits; ValueError says why not."""
    if not volume > 0:
        raise ValueError(f"volume must be positive; got {volume:g}")
    rounded = floor_to_step(volume, spec.volume_step)
    if rounded > spec.volume_max:
        raise ValueError(f"volume {volume:g} is above the broker maximum {spec.volume_max:g} "
                         f"for {spec.symbol}")
    if rounded < spec.volume_min or rounded <= 0:
        raise ValueError(f"volume {volume:g} is below the broker minimum {spec.volume_min:g} "
                         f"(step {spec.volume_step:g}) for {spec.symbol}")
    return rounded


def round_price(price: float, spec: ContractSpec,
                mode: Literal["nearest", "down", "up"] = "nearest") -> float:
    """Snap a price to the tick size, then round to the symbol's digits."""
    step = spec.price_step
    units = price / step
    if mode == "down":
        ticks = math.floor(units + 1e-9)
    elif mode == "up":
        ticks = math.ceil(units - 1e-9)
    else:
        ticks = round(units)
    return round(ticks * step, spec.digits)


def stops_problem(direction: Direction, reference_bid: float, reference_ask: float,
                  stop_loss: float | None, take_profit: float | None) -> str | None:
    """Why SL/TP sit on the wrong side of the price a position would close at, or None.

    A long closes at the bid: its stop loss must be below it and its take profit above it; a short
    closes at the ask, the other way round. For pending orders pass the order price as both.
    """
    if direction is Direction.LONG:
        close_at, side = reference_bid, "bid"
        if stop_loss is not None and stop_loss >= close_at:
            return f"stop loss {stop_loss:g} must be below the {side} {close_at:g} for a long"
        if take_profit is not None and take_profit <= close_at:
            return f"take profit {take_profit:g} must be above the {side} {close_at:g} for a long"
    else:
        close_at, side = reference_ask, "ask"
        if stop_loss is not None and stop_loss <= close_at:
            return f"stop loss {stop_loss:g} must be above the {side} {close_at:g} for a short"
        if take_profit is not None and take_profit >= close_at:
            return f"take profit {take_profit:g} must be below the {side} {close_at:g} for a short"
    return None


def pending_price_problem(direction: Direction, order_type: OrderType, price: float, bid: float, ask: float,
                          min_distance: float = 0.0) -> str | None:
    """Why a limit/stop order price is on the wrong side of the market (or too close), or None.

    Buy orders are checked against the ask, sell orders against the bid: a buy limit must sit at
    least ``min_distance`` below the ask, a buy stop above it; a sell limit above the bid, a sell
    stop below it.
    """
    long = direction is Direction.LONG
    name = f"{'buy' if long else 'sell'} {order_type}"
    market, market_name = (ask, "ask") if long else (bid, "bid")
    below = (order_type is OrderType.LIMIT) == long
    distance = market - price if below else price - market
    if distance <= 0:
        return f"{name} price {price:g} must be {'below' if below else 'above'} the {market_name} {market:g}"
    if distance < min_distance - 1e-12:
        return (f"{name} price {price:g} is closer to the {market_name} {market:g} than the broker's "
                f"minimum distance {min_distance:g}")
    return None


# ---------------------------------------------------------------------------- broker-side fills


class FillReason(StrEnum):
    """Why a broker filled something without being asked at that moment."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    PENDING_TRIGGERED = "pending_triggered"


@dataclass(frozen=True, slots=True)
class BrokerEvent:
    """A fill the broker made by itself (stop loss, take profit, pending order triggered)."""

    fill: Fill
    reason: FillReason


@dataclass(frozen=True, slots=True)
class ClosingDeals:
    """How a position closed, from the broker's own deals; money in the account currency.

    ``pnl_account`` covers every deal of the position (partial closes, the opening commission);
    ``final_pnl_account`` only the deals of the last close. ``reason`` is the last close's
    (None when our own API closed it: the caller knows why). ``complete``: the closing deals
    add up to the whole volume opened (a missing deal means the history is not complete yet).
    """

    ticket: int
    exit_price: float  # the last closing deal's price
    volume: float  # closed by the last close
    pnl_account: float
    final_pnl_account: float
    commission_account: float  # commissions and fees of every deal
    swap_account: float
    reason: CloseReason | None
    close_ts_ms: int
    complete: bool
