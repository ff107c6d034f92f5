"""The paper broker's fill rules as pure functions: when pending orders and SL/TP trigger, and at what."""

from __future__ import annotations

from core.execution import FillReason
from core.models import Direction, Fill, OrderType, PendingOrder, Position


def open_fill(position: Position) -> Fill:
    return Fill(ticket=position.ticket, symbol=position.symbol, direction=position.direction,
                volume=position.volume, price=position.open_price, ts_ms=position.open_ts_ms,
                client_id=position.client_id, kind="open")


def trigger_price(order: PendingOrder, bid: float, ask: float, slip: float) -> float | None:
    """Fill price if the order triggers at this bid/ask, else None."""
    if order.direction is Direction.LONG:
        if order.order_type is OrderType.LIMIT:
            return min(ask, order.price) if ask <= order.price else None
        return max(ask, order.price) * (1 + slip) if ask >= order.price else None
    if order.order_type is OrderType.LIMIT:
        return max(bid, order.price) if bid >= order.price else None
    return min(bid, order.price) * (1 - slip) if bid <= order.price else None


def stop_hit(position: Position, bid: float, ask: float, slip: float) -> tuple[float, FillReason] | None:
    """(fill price, reason) when the stop loss or take profit is hit; the stop is checked first."""
    sl, tp = position.stop_loss, position.take_profit
    if position.direction is Direction.LONG:
        if sl is not None and bid <= sl:
            return bid * (1 - slip), FillReason.STOP_LOSS
        if tp is not None and bid >= tp:
            return tp, FillReason.TAKE_PROFIT
    else:
        if sl is not None and ask >= sl:
            return ask * (1 + slip), FillReason.STOP_LOSS
        if tp is not None and ask <= tp:
            return tp, FillReason.TAKE_PROFIT
    return None


def clean_volume(volume: float) -> float:
    return round(volume, 10)
