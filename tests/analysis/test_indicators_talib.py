"""Incremental indicator updaters against TA-Lib's full-series values on real Binance klines."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from core.analysis import indicators
from core.analysis.indicators import AtrUpdater, EmaUpdater, MacdUpdater, ObvUpdater, RsiUpdater
from tests.analysis import realdata

KLINE_FILES = (
    "spot_BTCUSDT_1h_20201201-20210717.csv",
    "usdm_ETHUSDT_1h_20240101-20260427.csv",
    "spot_XRPETH_1m_20191011-20191013.csv",  # prices around 0.0007: small-number arithmetic
    "usdm_XRPUSDT_5m_20211115-20211121.csv",
)
RTOL = 1e-8


def assert_matches(stepped: list[float] | np.ndarray, reference: np.ndarray) -> None:
    """Same NaN prefix, then equal to 1e-8 relative (absolute floor far below any price move)."""
    stepped = np.asarray(stepped, dtype=np.float64)
    assert stepped.shape == reference.shape
    assert np.array_equal(np.isnan(stepped), np.isnan(reference))
    valid = ~np.isnan(reference)
    assert valid.sum() > 0
    scale = np.nanmax(np.abs(reference)) * 1e-12
    np.testing.assert_allclose(stepped[valid], reference[valid], rtol=RTOL, atol=scale)


@pytest.fixture(scope="module", params=KLINE_FILES)
def candles(request):
    return realdata.klines(request.param)


@pytest.mark.parametrize("period", [9, 20, 50])
def test_ema_updater_equals_talib(candles, period):
    updater = EmaUpdater(period)
    assert_matches([updater.update(x) for x in candles.close.tolist()], talib.EMA(candles.close, period))


@pytest.mark.parametrize("period", [7, 14])
def test_rsi_updater_equals_talib(candles, period):
    updater = RsiUpdater(period)
    assert_matches([updater.update(x) for x in candles.close.tolist()], talib.RSI(candles.close, period))


@pytest.mark.parametrize("period", [14, 21])
def test_atr_updater_equals_talib(candles, period):
    updater = AtrUpdater(period)
    stepped = [updater.update(h, lo, c) for h, lo, c in
               zip(candles.high.tolist(), candles.low.tolist(), candles.close.tolist(), strict=True)]
    assert_matches(stepped, talib.ATR(candles.high, candles.low, candles.close, period))


@pytest.mark.parametrize("fast,slow,signal", [(12, 26, 9), (5, 35, 5), (26, 12, 9)])
def test_macd_updater_equals_talib_including_its_fast_ema_seeding(candles, fast, slow, signal):
    updater = MacdUpdater(fast, slow, signal)
    stepped = np.array([updater.update(x) for x in candles.close.tolist()])
    for column, reference in zip(stepped.T, talib.MACD(candles.close, fast, slow, signal), strict=True):
        assert_matches(column, reference)


def test_obv_updater_equals_talib(candles):
    updater = ObvUpdater()
    stepped = [updater.update(c, v) for c, v in zip(candles.close.tolist(), candles.volume.tolist(), strict=True)]
    assert_matches(stepped, talib.OBV(candles.close, candles.volume))


def test_updaters_seeded_from_history_continue_like_the_full_series(candles):
    split = len(candles) // 3
    close, high, low, volume = candles.close, candles.high, candles.low, candles.volume
    ema = EmaUpdater.from_history(21, close[:split])
    rsi = RsiUpdater.from_history(14, close[:split])
    atr = AtrUpdater.from_history(14, high[:split], low[:split], close[:split])
    macd = MacdUpdater.from_history(close[:split])
    obv = ObvUpdater.from_history(close[:split], volume[:split])
    steps = {"ema": [], "rsi": [], "atr": [], "macd": [], "obv": []}
    for i in range(split, len(candles)):
        steps["ema"].append(ema.update(float(close[i])))
        steps["rsi"].append(rsi.update(float(close[i])))
        steps["atr"].append(atr.update(float(high[i]), float(low[i]), float(close[i])))
        steps["macd"].append(macd.update(float(close[i]))[2])
        steps["obv"].append(obv.update(float(close[i]), float(volume[i])))
    assert_matches(steps["ema"], talib.EMA(close, 21)[split:])
    assert_matches(steps["rsi"], talib.RSI(close, 14)[split:])
    assert_matches(steps["atr"], talib.ATR(high, low, close, 14)[split:])
    assert_matches(steps["macd"], talib.MACD(close)[2][split:])
    assert_matches(steps["obv"], talib.OBV(close, volume)[split:])
    assert macd.value[2] == steps["macd"][-1] and rsi.value == steps["rsi"][-1]


def test_macd_fast_ema_is_not_the_standalone_ema():
    """Guards the TA-Lib quirk the updater reproduces: the fast EMA is seeded at index slow-1."""
    close = realdata.klines(KLINE_FILES[0]).close[:200]
    line = talib.MACD(close, 12, 26, 9)[0]
    naive = talib.EMA(close, 12) - talib.EMA(close, 26)
    assert abs(line[40] - naive[40]) > 1e-6


def test_flat_prices_give_rsi_zero_like_talib():
    flat = np.full(40, 123.45)
    updater = RsiUpdater(14)
    assert_matches([updater.update(x) for x in flat.tolist()], talib.RSI(flat, 14))


def test_updaters_reject_bad_periods():
    with pytest.raises(ValueError):
        EmaUpdater(0)
    with pytest.raises(ValueError):
        RsiUpdater(1)
    with pytest.raises(ValueError):
        AtrUpdater(1)


# ---------------------------------------------------------------------------- full-series helpers


def test_full_series_wrappers_return_talib_values():
    c = realdata.klines(KLINE_FILES[0]).tail(500)
    np.testing.assert_array_equal(indicators.sma(c.close, 20), talib.SMA(c.close, 20))
    np.testing.assert_array_equal(indicators.ema(c.close, 20), talib.EMA(c.close, 20))
    np.testing.assert_array_equal(indicators.rsi(c.close), talib.RSI(c.close, 14))
    np.testing.assert_array_equal(indicators.atr(c.high, c.low, c.close), talib.ATR(c.high, c.low, c.close, 14))
    np.testing.assert_array_equal(indicators.obv(c.close, c.volume), talib.OBV(c.close, c.volume))
    bands = indicators.bollinger(c.close, 20, 2.0)
    middle = talib.SMA(c.close, 20)
    std = np.array([np.std(c.close[i - 19:i + 1]) for i in range(19, len(c))])
    np.testing.assert_allclose(bands.middle[19:], middle[19:], rtol=1e-12)
    np.testing.assert_allclose(bands.upper[19:] - bands.middle[19:], 2 * std, rtol=1e-6)
    macd = indicators.macd(c.close)
    np.testing.assert_array_equal(macd.histogram, talib.MACD(c.close)[2])


def test_vwap_cumulative_and_rolling_match_direct_sums():
    c = realdata.klines(KLINE_FILES[0]).tail(300)
    typical = (c.high + c.low + c.close) / 3
    cumulative = indicators.vwap(c.high, c.low, c.close, c.volume)
    rolling = indicators.vwap(c.high, c.low, c.close, c.volume, window=24)
    for i in (0, 10, 299):
        expected = sum(typical[j] * c.volume[j] for j in range(i + 1)) / sum(c.volume[: i + 1])
        assert cumulative[i] == pytest.approx(expected, rel=1e-12)
    assert np.isnan(rolling[22]) and not np.isnan(rolling[23])
    for i in (23, 150, 299):
        window = range(i - 23, i + 1)
        expected = sum(typical[j] * c.volume[j] for j in window) / sum(c.volume[j] for j in window)
        assert rolling[i] == pytest.approx(expected, rel=1e-12)


def test_volume_zscore_excludes_the_current_candle():
    volume = realdata.klines(KLINE_FILES[0]).volume[:200]
    z = indicators.volume_zscore(volume, 20)
    assert np.isnan(z[19]) and not np.isnan(z[20])
    for i in (20, 77, 199):
        trailing = volume[i - 20:i]
        assert z[i] == pytest.approx((volume[i] - trailing.mean()) / trailing.std(), rel=1e-9)
    assert indicators.last_volume_zscore(volume, 20) == pytest.approx(z[-1], rel=1e-12)
    assert indicators.volume_zscore(np.ones(30), 20)[25] == 0.0


def test_unstable_period_only_hides_the_first_values_like_talib():
    c = realdata.klines(KLINE_FILES[0]).tail(400)
    try:
        for name in ("EMA", "RSI", "ATR"):
            talib.set_unstable_period(name, 25)
        ema, rsi, atr = EmaUpdater(20, 25), RsiUpdater(14, 25), AtrUpdater(14, 25)
        assert_matches([ema.update(x) for x in c.close.tolist()], talib.EMA(c.close, 20))
        assert_matches([rsi.update(x) for x in c.close.tolist()], talib.RSI(c.close, 14))
        stepped = [atr.update(h, lo, x) for h, lo, x in zip(c.high.tolist(), c.low.tolist(), c.close.tolist(),
                                                             strict=True)]
        assert_matches(stepped, talib.ATR(c.high, c.low, c.close, 14))
        assert np.isnan(talib.RSI(c.close, 14)[38]) and not np.isnan(talib.RSI(c.close, 14)[39])
    finally:
        talib.set_unstable_period("ALL", 0)
