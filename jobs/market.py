"""Scheduled market-data jobs: thin calls into core services."""

from __future__ import annotations

from core.market.candle_repair import CandleRepairer


async def repair_candles(repairer: CandleRepairer) -> int:
    """Replace the higher-timeframe candles the store built itself with Binance's (live), or report the
    ones built across a gap that cannot be repaired (replay)."""
    return await repairer.run_once()
