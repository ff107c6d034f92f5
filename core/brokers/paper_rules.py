"""Small pure helpers of the paper broker (its fill rules are ``core.fills.FillModel``)."""

from __future__ import annotations

from core.models import Fill, Position


def open_fill(position: Position) -> Fill:
    return Fill(ticket=position.ticket, symbol=position.symbol, direction=position.direction,
                volume=position.volume, price=position.open_price, ts_ms=position.open_ts_ms,
                client_id=position.client_id, kind="open")


def clean_volume(volume: float) -> float:
    return round(volume, 10)
