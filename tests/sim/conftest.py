"""One simulated hour of BTCUSD under the recording's conditions, shared by the statistics tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from core.feeds.simulator import MarketSimulator, Regime, SimParams
from core.models import Candle, MarketEvent, Side, Trade
from tests.sim.realstats import RECORDING_START_MS, TradeStats, real_trades

CALIBRATION_SEED = 20240808
SIM_SECONDS = 3600


@dataclass
class Recorder:
    notional_usd: list[float] = field(default_factory=list)
    buys: list[bool] = field(default_factory=list)
    trade_ts_ms: list[int] = field(default_factory=list)
    seconds: list[Candle] = field(default_factory=list)

    def __call__(self, event: MarketEvent) -> None:
        if type(event) is Trade:
            self.notional_usd.append(event.price * event.qty)
            self.buys.append(event.side is Side.BUY)
            self.trade_ts_ms.append(event.ts_ms)
        elif type(event) is Candle:
            self.seconds.append(event)


@dataclass
class SimulatedHour:
    simulator: MarketSimulator
    recorder: Recorder
    span_s: float

    def stats(self) -> TradeStats:
        return TradeStats(np.array(self.recorder.notional_usd), np.array(self.recorder.buys), self.span_s)


@pytest.fixture(scope="session")
def btc_hour() -> SimulatedHour:
    """BTCUSD alone, no book snapshots (faster), held in the TRENDING regime at the median slow
    volatility, starting at the recording's date and time of day."""
    params = SimParams(book_every_steps=0, fixed_regime=Regime.TRENDING, initial_vol_factor=1.0)
    sim = MarketSimulator(["BTCUSD"], CALIBRATION_SEED, RECORDING_START_MS, params)
    recorder = Recorder()
    sim.stream_until(sim.now_ms + SIM_SECONDS * 1000, recorder)
    return SimulatedHour(sim, recorder, float(SIM_SECONDS))


@pytest.fixture(scope="session")
def real_btc() -> TradeStats:
    return real_trades()
