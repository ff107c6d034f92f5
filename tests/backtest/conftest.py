"""Real 2020-21 BTCUSDT and ETHUSDT 5m/1h candles, loaded once, and one full backtest of each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.backtest.data import build_timeframes, load_klines
from core.backtest.engine import run_backtest
from core.backtest.records import BacktestConfig
from tests.paths import BINANCE_DATA

KLINES = BINANCE_DATA / "klines"
FILES = {"BTCUSDT": ("spot_BTCUSDT_5m_20201201-20210717.csv", "spot_BTCUSDT_1h_20201201-20210717.csv"),
         "ETHUSDT": ("spot_ETHUSDT_5m_20201201-20210717.csv", "spot_ETHUSDT_1h_20201201-20210717.csv")}


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


class Market:
    def __init__(self, symbol: str) -> None:
        five, hour = FILES[symbol]
        self.symbol = symbol
        self.base = load_klines(KLINES / five, symbol)
        self.hour = load_klines(KLINES / hour, symbol)

    def build(self, base, intervals=("1h", "4h", "1d", "3d", "1w", "1M")):
        """The 1h file (cut to the base's span) plus the rest resampled from the 5m base."""
        start, end = int(base.open_time_ms[0]), int(base.open_time_ms[-1])
        hour = self.hour
        keep = (hour.open_time_ms >= start) & (hour.open_time_ms <= end)
        given = {"1h": type(hour)(hour.symbol, "1h", hour.open_time_ms[keep], hour.open[keep], hour.high[keep],
                                  hour.low[keep], hour.close[keep], hour.volume[keep])}
        return build_timeframes(base, given if "1h" in intervals else {}, intervals)


@pytest.fixture(scope="session")
def markets() -> dict[str, Market]:
    return {symbol: Market(symbol) for symbol in FILES}


@pytest.fixture(scope="session")
def full_runs(markets):
    """One backtest per symbol over the whole files with the default settings."""
    return {symbol: run_backtest(m.base, m.build(m.base), BacktestConfig(symbol)) for symbol, m in markets.items()}
