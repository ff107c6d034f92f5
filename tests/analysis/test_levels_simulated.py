"""Zone widths on the simulator's history for every default symbol: a band is a fraction of a day's
range, not several days' (regression: a fixed 1.5 % made EURUSD and XAUUSD zones cover the chart)."""

from __future__ import annotations

import pytest
import talib

from core.analysis.levels import LevelParams, find_zones
from core.feeds.simulator import MarketSimulator, SimParams
from core.market.symbols import default_specs
from core.models import HTF_INTERVALS, CandleArrays

START_MS = 1_763_000_000_000
LIMITS = {"1h": 1000, "4h": 1000, "1d": 1000, "3d": 500, "1w": 400, "1M": 120}  # what the bot loads
SYMBOLS = [spec.symbol for spec in default_specs("")]
CHART_CANDLES = 120  # the 1h window the S/R chart shows


@pytest.fixture(scope="module")
def simulator() -> MarketSimulator:
    return MarketSimulator(SYMBOLS, seed=7, clock_start_ms=START_MS, params=SimParams())


def _htf(simulator: MarketSimulator, symbol: str) -> dict[str, CandleArrays]:
    return {interval: CandleArrays.from_candles(symbol, interval, simulator.history(symbol, interval,
                                                                                    LIMITS[interval]))
            for interval in HTF_INTERVALS}


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_zone_bands_stay_within_half_a_daily_atr(simulator, symbol):
    htf = _htf(simulator, symbol)
    price = float(htf["1h"].close[-1])
    daily = htf["1d"].tail(140)
    daily_atr = float(talib.ATR(daily.high, daily.low, daily.close, 14)[-1])
    zones = find_zones(htf, price, START_MS)
    assert len(zones) >= 3
    widest = max(z.high - z.low for z in zones)
    assert widest <= min(0.5 * daily_atr, 0.015 * price) + 1e-9
    hourly = htf["1h"].tail(CHART_CANDLES)
    assert widest <= 0.4 * (hourly.high.max() - hourly.low.min())  # a band, not the whole chart


def test_without_the_atr_cap_fx_zones_span_days_of_range(simulator):
    htf = _htf(simulator, "EURUSD")
    price = float(htf["1h"].close[-1])
    daily = htf["1d"].tail(140)
    daily_atr = float(talib.ATR(daily.high, daily.low, daily.close, 14)[-1])
    uncapped = find_zones(htf, price, START_MS, LevelParams(atr_tolerance_max_mult=0.0))
    assert max(z.high - z.low for z in uncapped) > 2 * daily_atr  # 1.5 % of price is ~3 EURUSD days
