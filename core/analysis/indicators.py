"""Technical indicators: full series from TA-Lib, numpy for what it lacks, and incremental updaters.

Full-series functions return float64 arrays as long as the input, NaN where TA-Lib has no value
yet (its lookback). The updaters advance one closed candle at a time in about a microsecond and
reproduce TA-Lib's values exactly (same seeding, same arithmetic order), with TA-Lib's default
unstable period of 0:

- EMA: seeded with the SMA of the first ``period`` values, then ``ema += (x - ema) * 2/(period+1)``.
- RSI: Wilder averages of gains/losses seeded with their plain mean over the first ``period``
  changes; 0 when the two averages sum to "zero" (TA-Lib's ``TA_IS_ZERO``, probed at import).
- ATR: Wilder average of the true range, seeded with the SMA of the first ``period`` ranges
  (the first candle has no range, so the first ATR is at index ``period``).
- MACD: TA-Lib seeds the fast EMA at the same candle as the slow one (index ``slow-1``) from the
  last ``fast`` of the first ``slow`` values, so it is not the standalone EMA(fast); the signal is
  an EMA of the MACD line seeded with its SMA. All three outputs start at ``slow + signal - 2``.
- OBV: starts at the first candle's volume.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import talib
from numpy.lib.stride_tricks import sliding_window_view

NAN = math.nan


def _f64(values: Iterable[float] | np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


# ---------------------------------------------------------------------------- full series (TA-Lib)


class MacdSeries(NamedTuple):
    macd: np.ndarray
    signal: np.ndarray
    histogram: np.ndarray


class BollingerSeries(NamedTuple):
    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray


def sma(close: np.ndarray, period: int) -> np.ndarray:
    return talib.SMA(_f64(close), timeperiod=period)


def ema(close: np.ndarray, period: int) -> np.ndarray:
    return talib.EMA(_f64(close), timeperiod=period)


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.RSI(_f64(close), timeperiod=period)


def macd(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> MacdSeries:
    line, signal_line, histogram = talib.MACD(_f64(close), fastperiod=fast, slowperiod=slow,
                                              signalperiod=signal)
    return MacdSeries(line, signal_line, histogram)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    return talib.ATR(_f64(high), _f64(low), _f64(close), timeperiod=period)


def obv(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    return talib.OBV(_f64(close), _f64(volume))


def bollinger(close: np.ndarray, period: int = 20, num_std: float = 2.0) -> BollingerSeries:
    upper, middle, lower = talib.BBANDS(_f64(close), timeperiod=period, nbdevup=num_std,
                                        nbdevdn=num_std, matype=0)
    return BollingerSeries(upper, middle, lower)


# ---------------------------------------------------------------------------- numpy extras


def vwap(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
         window: int | None = None) -> np.ndarray:
    """Volume-weighted average of the typical price (h+l+c)/3: cumulative, or rolling over
    ``window`` candles (NaN before the first full window). Zero volume so far gives NaN."""
    typical = (_f64(high) + _f64(low) + _f64(close)) / 3.0
    vol = _f64(volume)
    if window is None:
        cum_pv, cum_v = np.cumsum(typical * vol), np.cumsum(vol)
    else:
        out = np.full(vol.shape, NAN)
        if vol.size >= window:
            pv_windows = sliding_window_view(typical * vol, window).sum(axis=1)
            v_windows = sliding_window_view(vol, window).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[window - 1:] = np.where(v_windows > 0, pv_windows / v_windows, NAN)
        return out
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cum_v > 0, cum_pv / cum_v, NAN)


def volume_zscore(volume: np.ndarray, window: int = 20) -> np.ndarray:
    """Z-score of each volume against the ``window`` volumes before it (itself excluded).

    NaN for the first ``window`` values; 0 where the trailing window has no variance.
    """
    vol = _f64(volume)
    out = np.full(vol.shape, NAN)
    if vol.size <= window:
        return out
    trailing = sliding_window_view(vol[:-1], window)
    mean = trailing.mean(axis=1)
    std = trailing.std(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[window:] = np.where(std > 0, (vol[window:] - mean) / std, 0.0)
    return out


def last_volume_zscore(volume: np.ndarray, window: int = 20) -> float:
    """The z-score of the last volume only (cheap; NaN if there is not enough history)."""
    vol = _f64(volume)
    if vol.size <= window:
        return NAN
    trailing = vol[-window - 1:-1]
    mean = np.add.reduce(trailing) / window  # what trailing.mean() and .std() compute, without their overhead
    deviation = trailing - mean
    std = float(np.sqrt(np.add.reduce(deviation * deviation) / window))
    return (float(vol[-1]) - float(mean)) / std if std > 0 else 0.0


# ---------------------------------------------------------------------------- incremental updaters


def _rsi_zero_epsilon() -> float:
    """TA-Lib's RSI is 0 when avg gain + avg loss is "zero" (``TA_IS_ZERO``); the tolerance was 1e-8
    in C library 0.4, 1e-14 later, and the bundled build treats only exact 0 as zero. Probe once."""
    for epsilon in (1e-8, 1e-14):
        ramp = np.arange(16, dtype=np.float64) * (epsilon / 2)  # every change is epsilon/2
        if talib.RSI(ramp, timeperiod=14)[-1] == 0.0:
            return epsilon
    return 0.0


_RSI_ZERO_EPSILON = _rsi_zero_epsilon()


def _is_zero(value: float) -> bool:
    return value == 0.0 or -_RSI_ZERO_EPSILON < value < _RSI_ZERO_EPSILON


class EmaUpdater:
    """EMA advanced one value at a time; equals ``talib.EMA`` on the same series.

    ``unstable_period`` mirrors ``talib.set_unstable_period``: the values are the same, only the
    first ``unstable_period`` extra outputs are returned as NaN (``value`` always holds the state).
    """

    __slots__ = ("period", "_k", "_seed_sum", "_count", "_first_output", "value")

    def __init__(self, period: int, unstable_period: int = 0) -> None:
        if period < 1:
            raise ValueError("period must be at least 1")
        self.period = period
        self._k = 2.0 / (period + 1)
        self._seed_sum = 0.0
        self._count = 0
        self._first_output = period + unstable_period  # 1-based count of the first visible value
        self.value = NAN

    @classmethod
    def from_history(cls, period: int, close: Iterable[float], unstable_period: int = 0) -> EmaUpdater:
        updater = cls(period, unstable_period)
        for x in close:
            updater.update(float(x))
        return updater

    def update(self, close: float) -> float:
        self._count += 1
        if self._count > self.period:
            self.value = (close - self.value) * self._k + self.value
        else:
            self._seed_sum += close
            if self._count == self.period:
                self.value = self._seed_sum / self.period
        return self.value if self._count >= self._first_output else NAN


class RsiUpdater:
    """Wilder RSI advanced one close at a time; equals ``talib.RSI`` (``unstable_period`` as EMA's)."""

    __slots__ = ("period", "_prev_close", "_gain", "_loss", "_count", "_first_output", "value")

    def __init__(self, period: int = 14, unstable_period: int = 0) -> None:
        if period < 2:
            raise ValueError("period must be at least 2")
        self.period = period
        self._prev_close = NAN
        self._gain = 0.0
        self._loss = 0.0
        self._count = 0
        self._first_output = period + 1 + unstable_period
        self.value = NAN

    @classmethod
    def from_history(cls, period: int, close: Iterable[float], unstable_period: int = 0) -> RsiUpdater:
        updater = cls(period, unstable_period)
        for x in close:
            updater.update(float(x))
        return updater

    def update(self, close: float) -> float:
        count, period = self._count, self.period
        self._count = count + 1
        if count == 0:
            self._prev_close = close
            return self.value
        change = close - self._prev_close
        self._prev_close = close
        if count <= period:  # seeding: plain sums of the first `period` changes
            if change < 0:
                self._loss -= change
            else:
                self._gain += change
            if count < period:
                return self.value
            self._loss /= period
            self._gain /= period
        else:
            self._loss *= period - 1
            self._gain *= period - 1
            if change < 0:
                self._loss -= change
            else:
                self._gain += change
            self._loss /= period
            self._gain /= period
        total = self._gain + self._loss
        self.value = 0.0 if _is_zero(total) else 100.0 * (self._gain / total)
        return self.value if self._count >= self._first_output else NAN


class AtrUpdater:
    """Wilder ATR advanced one candle at a time; equals ``talib.ATR`` (``unstable_period`` as EMA's)."""

    __slots__ = ("period", "_prev_close", "_seed_sum", "_count", "_first_output", "value")

    def __init__(self, period: int = 14, unstable_period: int = 0) -> None:
        if period < 2:
            raise ValueError("period must be at least 2")
        self.period = period
        self._prev_close = NAN
        self._seed_sum = 0.0
        self._count = 0
        self._first_output = period + unstable_period  # 0-based count of the first visible value
        self.value = NAN

    @classmethod
    def from_history(cls, period: int, high: Iterable[float], low: Iterable[float],
                     close: Iterable[float], unstable_period: int = 0) -> AtrUpdater:
        updater = cls(period, unstable_period)
        for h, lo, c in zip(high, low, close, strict=True):
            updater.update(float(h), float(lo), float(c))
        return updater

    def update(self, high: float, low: float, close: float) -> float:
        count = self._count
        self._count = count + 1
        prev_close, self._prev_close = self._prev_close, close
        if count == 0:
            return self.value
        true_range = high - low
        if abs(prev_close - high) > true_range:
            true_range = abs(prev_close - high)
        if abs(prev_close - low) > true_range:
            true_range = abs(prev_close - low)
        period = self.period
        if count < period:
            self._seed_sum += true_range
        elif count == period:
            self.value = (self._seed_sum + true_range) / period
        else:
            self.value = (self.value * (period - 1) + true_range) / period
        return self.value if count >= self._first_output else NAN


class MacdUpdater:
    """MACD (line, signal, histogram) advanced one close at a time; equals ``talib.MACD``."""

    __slots__ = ("fast", "slow", "signal", "_k_fast", "_k_slow", "_k_signal", "_seed", "_fast_ema",
                 "_slow_ema", "_signal_sum", "_signal_count", "line", "signal_value")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        if slow < fast:
            fast, slow = slow, fast  # TA-Lib swaps them too
        if fast < 2 or signal < 1:
            raise ValueError("periods must be at least 2 (fast, slow) and 1 (signal)")
        self.fast, self.slow, self.signal = fast, slow, signal
        self._k_fast, self._k_slow = 2.0 / (fast + 1), 2.0 / (slow + 1)
        self._k_signal = 2.0 / (signal + 1)
        self._seed: list[float] | None = []
        self._fast_ema = self._slow_ema = NAN
        self._signal_sum = 0.0
        self._signal_count = 0
        self.line = NAN  # the MACD line, available from index slow-1 (before TA-Lib shows it)
        self.signal_value = NAN

    @classmethod
    def from_history(cls, close: Iterable[float], fast: int = 12, slow: int = 26,
                     signal: int = 9) -> MacdUpdater:
        updater = cls(fast, slow, signal)
        for x in close:
            updater.update(float(x))
        return updater

    @property
    def value(self) -> tuple[float, float, float]:
        if math.isnan(self.signal_value):
            return NAN, NAN, NAN
        return self.line, self.signal_value, self.line - self.signal_value

    def update(self, close: float) -> tuple[float, float, float]:
        seed = self._seed
        if seed is not None:
            seed.append(close)
            if len(seed) < self.slow:
                return NAN, NAN, NAN
            self._slow_ema = _plain_mean(seed)
            self._fast_ema = _plain_mean(seed[self.slow - self.fast:])
            self._seed = None
        else:
            self._slow_ema = (close - self._slow_ema) * self._k_slow + self._slow_ema
            self._fast_ema = (close - self._fast_ema) * self._k_fast + self._fast_ema
        self.line = line = self._fast_ema - self._slow_ema
        if self._signal_count < self.signal:
            self._signal_count += 1
            self._signal_sum += line
            if self._signal_count < self.signal:
                return NAN, NAN, NAN
            self.signal_value = self._signal_sum / self.signal
        else:
            self.signal_value = (line - self.signal_value) * self._k_signal + self.signal_value
        return line, self.signal_value, line - self.signal_value


def _plain_mean(values: list[float]) -> float:
    total = 0.0
    for x in values:  # left-to-right like TA-Lib (Python's sum() compensates since 3.12)
        total += x
    return total / len(values)


class ObvUpdater:
    """On-balance volume advanced one candle at a time; equals ``talib.OBV``."""

    __slots__ = ("_prev_close", "value")

    def __init__(self) -> None:
        self._prev_close = NAN
        self.value = NAN

    @classmethod
    def from_history(cls, close: Iterable[float], volume: Iterable[float]) -> ObvUpdater:
        updater = cls()
        for c, v in zip(close, volume, strict=True):
            updater.update(float(c), float(v))
        return updater

    def update(self, close: float, volume: float) -> float:
        if math.isnan(self.value):
            self.value = volume
        elif close > self._prev_close:
            self.value += volume
        elif close < self._prev_close:
            self.value -= volume
        self._prev_close = close
        return self.value
