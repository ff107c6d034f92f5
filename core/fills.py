"""The one fill model: spread, slippage and fees, shared by the paper broker, the shadow book and the backtest.

Rules (numbers are the ``fills.*`` tunables):
- Quote: a price source's own bid/ask is kept when it is at least as wide as the configured spread
  (absolute per symbol, else bps per symbol, else ``spread_bps`` of the mid); otherwise the configured
  spread is centred on the mid. A trade price or candle price is treated as the mid.
- Market orders buy at the ask and sell at the bid, moved against us by ``slippage_bps``; a position
  closes on the other side (a long at the bid, a short at the ask) with the same slippage.
- Pending limit orders fill at their price (or better on a gap); stop orders at the market, moved
  against us. A stop loss fills at the market moved against us; a take profit at its price.
- Fees: ``fee_bps`` of the notional on every fill (entry and exit), in the quote currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.execution import FillReason
from core.models import Direction, OrderType
from core.tunables import Tunable, params_from_values

TUNABLES: tuple[Tunable, ...] = (
    Tunable("fills.spread_bps", float, 2.0, "smallest full spread assumed for shadow trades and backtests, "
            "in bps of the mid", 0, 1_000, unit="bps"),
    Tunable("fills.slippage_bps", float, 1.0, "market fills of shadow trades and backtests move this much "
            "against us", 0, 1_000, unit="bps"),
    Tunable("fills.fee_bps", float, 5.0, "fee per fill of shadow trades and backtests, in bps of the notional",
            0, 1_000, unit="bps"),
)


@dataclass(frozen=True, slots=True)
class FillModel:
    """Where orders fill; see the module docstring. ``FillModel.from_values`` reads the ``fills.*`` settings."""

    spread_bps: float = 2.0
    slippage_bps: float = 1.0
    fee_bps: float = 5.0
    spread_bps_by_symbol: Mapping[str, float] = field(default_factory=dict)
    spread_abs_by_symbol: Mapping[str, float] = field(default_factory=dict)  # price units

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> FillModel:
        return params_from_values(cls, "fills", values)

    @property
    def slip(self) -> float:
        return self.slippage_bps / 10_000.0

    # ------------------------------------------------------------------ quotes

    def spread(self, symbol: str, mid: float) -> float:
        if symbol in self.spread_abs_by_symbol:
            return self.spread_abs_by_symbol[symbol]
        return mid * self.spread_bps_by_symbol.get(symbol, self.spread_bps) / 10_000.0

    def quote(self, symbol: str, bid: float, ask: float) -> tuple[float, float]:
        """The bid/ask to trade at: the source's own when wide enough, else the configured spread."""
        mid = (bid + ask) / 2.0
        spread = self.spread(symbol, mid)
        if ask - bid >= spread:
            return bid, ask
        return mid - spread / 2.0, mid + spread / 2.0

    def quote_at(self, symbol: str, price: float) -> tuple[float, float]:
        """Bid/ask around a trade or candle price (taken as the mid)."""
        return self.quote(symbol, price, price)

    def quote_arrays(self, symbol: str, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``quote_at`` of every price at once (the same arithmetic, element by element)."""
        p = np.asarray(prices, dtype=np.float64)
        if symbol in self.spread_abs_by_symbol:
            spread = np.full(p.shape, float(self.spread_abs_by_symbol[symbol]))
        else:
            spread = p * self.spread_bps_by_symbol.get(symbol, self.spread_bps) / 10_000.0
        wide = spread > 0
        return np.where(wide, p - spread / 2.0, p), np.where(wide, p + spread / 2.0, p)

    @staticmethod
    def close_side(direction: Direction, bid: float, ask: float) -> float:
        """The price a position closes at before slippage: the bid for a long, the ask for a short."""
        return bid if direction is Direction.LONG else ask

    # ------------------------------------------------------------------ fills

    def market_entry(self, direction: Direction, bid: float, ask: float) -> float:
        return ask * (1 + self.slip) if direction is Direction.LONG else bid * (1 - self.slip)

    def market_exit(self, direction: Direction, bid: float, ask: float) -> float:
        return self.slipped_exit(direction, self.close_side(direction, bid, ask))

    def slipped_exit(self, direction: Direction, close_side_price: float) -> float:
        """A market close at ``close_side_price`` (bid of a long, ask of a short) after slippage."""
        return close_side_price * (1 - self.slip) if direction is Direction.LONG else close_side_price * (1 + self.slip)

    def pending_fill(self, direction: Direction, order_type: OrderType, order_price: float, bid: float,
                     ask: float) -> float | None:
        """Fill price of a limit/stop order if it triggers at this bid/ask, else None."""
        slip = self.slip
        if direction is Direction.LONG:
            if order_type is OrderType.LIMIT:
                return min(ask, order_price) if ask <= order_price else None
            return max(ask, order_price) * (1 + slip) if ask >= order_price else None
        if order_type is OrderType.LIMIT:
            return max(bid, order_price) if bid >= order_price else None
        return min(bid, order_price) * (1 - slip) if bid <= order_price else None

    def protective_fill(self, direction: Direction, stop_loss: float | None, take_profit: float | None,
                        bid: float, ask: float) -> tuple[float, FillReason] | None:
        """(fill price, reason) when the stop loss or take profit is hit; the stop is checked first."""
        if direction is Direction.LONG:
            if stop_loss is not None and bid <= stop_loss:
                return bid * (1 - self.slip), FillReason.STOP_LOSS
            if take_profit is not None and bid >= take_profit:
                return take_profit, FillReason.TAKE_PROFIT
        else:
            if stop_loss is not None and ask >= stop_loss:
                return ask * (1 + self.slip), FillReason.STOP_LOSS
            if take_profit is not None and ask <= take_profit:
                return take_profit, FillReason.TAKE_PROFIT
        return None

    def fee(self, notional: float) -> float:
        """The fee of one fill of ``notional`` (quote currency)."""
        return abs(notional) * self.fee_bps / 10_000.0
