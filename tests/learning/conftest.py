"""The first accepted plan after mid-February 2021 on real BTCUSDT 5m data, for the shadow-book tests."""

from __future__ import annotations

import numpy as np
import pytest

from core.backtest.data import build_timeframes, load_klines, window
from core.backtest.series import SeriesAnalyser
from core.events import SignalEvaluated, Trigger
from core.models import DataSource, close_end_ms
from tests.paths import BINANCE_DATA

FILE = BINANCE_DATA / "klines" / "spot_BTCUSDT_5m_20201201-20210717.csv"


@pytest.fixture(scope="session")
def signal():
    """The first accepted plan after mid-February 2021, and the 5m candles after it."""
    base = load_klines(FILE, "BTCUSDT")
    htf = build_timeframes(base, intervals=("1h", "4h", "1d"))
    analyser = SeriesAnalyser("BTCUSDT", htf)
    ends = close_end_ms(htf["1h"].open_time_ms, "1h")
    for i in range(1800, len(ends)):
        ts, price = int(ends[i]), float(htf["1h"].close[i])
        analysis = analyser.at(ts, price, price * 2e-4)
        if analysis.plan is not None:
            start = int(np.searchsorted(base.open_time_ms, ts))
            event = SignalEvaluated(ts_ms=ts, symbol="BTCUSDT", trigger=Trigger.CLOSE, source=DataSource.REPLAY,
                                    price=price, analysis=analysis, plan=analysis.plan,
                                    candidate=analysis.candidate_plan, evaluation_id=f"ev{i}")
            return event, window(base, start, start + 2000)
    raise AssertionError("no plan found")


