"""Simulated higher-timeframe history: years of bars from the live process, Binance-aligned.

Bars come in three resolutions, coarse to fine: 1 h for the old past, 5 m for the last
``fine_5m_days``, 1 m for the last ``fine_1m_days`` (the live simulator appends 1 m bars after
that). Regimes, the slow volatility factor, intraday and weekly seasonality are the live ones;
highs and lows are drawn from the exact Brownian-bridge range distribution, so a coarse bar's
range matches what finer bars would aggregate to. The last close equals the live start price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.feeds.sim_flow import TradeSizeModel
from core.feeds.sim_profiles import DAY_MS, HOUR_MS, SimSymbol
from core.feeds.sim_regimes import Regime, RegimeModel, RegimeTimeline
from core.models import Candle, interval_ms

MINUTE_MS = 60_000
_WEEK_MS = 7 * DAY_MS
_MONDAY_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; 1970-01-05 a Monday


@dataclass(frozen=True, slots=True)
class HistoryShape:
    history_days: int = 1280
    fine_5m_days: int = 30
    fine_1m_days: int = 2
    slow_vol_sd: float = 0.3
    volatility_scale: float = 1.0
    activity_scale: float = 1.0


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """Contiguous closed bars of varying length ``dt_ms`` (oldest first)."""

    open_time_ms: np.ndarray
    dt_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    trades: np.ndarray
    taker_buy_volume: np.ndarray

    def __len__(self) -> int:
        return int(self.open_time_ms.shape[0])

    def extended(self, rows: list[tuple[int, int, float, float, float, float, float, float, float, float]]) -> Bars:
        """These bars followed by ``rows`` (live 1 m bars, same column order)."""
        if not rows:
            return self
        cols = list(zip(*rows, strict=True))
        parts = [np.concatenate([getattr(self, name), np.asarray(col, dtype=getattr(self, name).dtype)])
                 for name, col in zip(_FIELDS, cols, strict=True)]
        return Bars(*parts)


_FIELDS = ("open_time_ms", "dt_ms", "open", "high", "low", "close", "volume", "quote_volume", "trades",
           "taker_buy_volume")


def history_start_ms(end_ms: int, shape: HistoryShape) -> int:
    return (end_ms // DAY_MS - shape.history_days) * DAY_MS


def bar_times(end_ms: int, shape: HistoryShape) -> tuple[np.ndarray, np.ndarray]:
    """Open times and lengths of the 1 h / 5 m / 1 m tiers ending at ``end_ms`` (minute-aligned)."""
    day = end_ms // DAY_MS * DAY_MS
    start = history_start_ms(end_ms, shape)
    five = max(start, day - shape.fine_5m_days * DAY_MS)
    one = max(five, day - shape.fine_1m_days * DAY_MS)
    times = [np.arange(start, five, HOUR_MS), np.arange(five, one, 5 * MINUTE_MS), np.arange(one, end_ms, MINUTE_MS)]
    lengths = [np.full(len(times[0]), HOUR_MS), np.full(len(times[1]), 5 * MINUTE_MS),
               np.full(len(times[2]), MINUTE_MS)]
    return np.concatenate(times).astype(np.int64), np.concatenate(lengths).astype(np.int64)


def generate_history(sym: SimSymbol, *, end_ms: int, shape: HistoryShape, regimes: RegimeModel,
                     timeline: RegimeTimeline, slow_vol_hourly: np.ndarray, sizes: TradeSizeModel,
                     rng: np.random.Generator) -> Bars:
    """Bars for ``sym`` from ``history_days`` before ``end_ms`` up to it; last close = start price."""
    t, dt = bar_times(end_ms, shape)
    start = history_start_ms(end_ms, shape)
    profile = sym.profile
    hour_index = (t - start) // HOUR_MS
    n_hours = int(hour_index[-1]) + 1
    regime = timeline.regime[timeline.index_at(t)].astype(np.int64)
    hour_factor = np.array(profile.hour_factors())[(t // HOUR_MS) % 24]
    weekday, weekend = profile.week_factors()
    week = np.where(_is_weekend(t, profile.fx_weekend), weekend, weekday)
    vol_mult = np.array(regimes.vol_multipliers())[regime]
    slow = np.exp(slow_vol_hourly[hour_index] - shape.slow_vol_sd ** 2)
    per_sqrt_s = sym.annual_vol / math.sqrt(profile.trading_days_per_year * 86_400) * shape.volatility_scale
    sigma = per_sqrt_s * np.sqrt(dt / 1000.0) * vol_mult * hour_factor * week * slow
    shocks = rng.standard_t(6, size=len(t)) * math.sqrt(4 / 6)  # unit variance, fat tails
    noise = sigma * shocks
    hourly_sigma = np.bincount(hour_index, weights=sigma ** 2, minlength=n_hours) ** 0.5
    drift = _hourly_drift(np.bincount(hour_index, weights=noise, minlength=n_hours), hourly_sigma,
                          timeline, start, n_hours, regimes)
    returns = noise + drift[hour_index] * (dt / HOUR_MS)
    log_close = np.cumsum(returns)
    log_close += math.log(sym.start_price) - log_close[-1]
    log_open = log_close - returns
    activity = np.array(regimes.rate)[regime] * hour_factor * week * slow * shape.activity_scale
    return _bars(sym, t, dt, log_open, log_close, returns, sigma, activity, sizes, shape, rng)


def _hourly_drift(noise_h: np.ndarray, sigma_h: np.ndarray, timeline: RegimeTimeline, start_ms: int,
                  n_hours: int, regimes: RegimeModel) -> np.ndarray:
    """Per-hour drift: trends push; a calm range pulls back to where it began (an AR(1) of the
    deviation, restarted at each calm segment, so only calm hours need the loop)."""
    segment = timeline.index_at(start_ms + np.arange(n_hours, dtype=np.int64) * HOUR_MS)
    regime = timeline.regime[segment]
    drift = np.zeros(n_hours)
    trending = regime == Regime.TRENDING
    drift[trending] = (timeline.trend_sign[segment[trending]] * regimes.trend_drift_sigmas_per_hour
                       * sigma_h[trending])
    calm = np.flatnonzero(regime == Regime.CALM)
    if len(calm) == 0:
        return drift
    starts = np.r_[True, segment[calm][1:] != segment[calm][:-1]].tolist()
    pull = 1 - 0.5 ** (1 / regimes.range_half_life_hours)
    keep = 1 - pull
    pulls = []
    deviation = 0.0
    for begins, noise in zip(starts, noise_h[calm].tolist(), strict=True):
        if begins:
            deviation = 0.0
        pulls.append(-pull * deviation)
        deviation = keep * deviation + noise
    drift[calm] = pulls
    return drift


def _bars(sym: SimSymbol, t: np.ndarray, dt: np.ndarray, log_open: np.ndarray, log_close: np.ndarray,
          returns: np.ndarray, sigma: np.ndarray, activity: np.ndarray, sizes: TradeSizeModel,
          shape: HistoryShape, rng: np.random.Generator) -> Bars:
    variance = sigma ** 2
    up = (returns + np.sqrt(returns ** 2 - 2 * variance * np.log(rng.random(len(t))))) / 2
    down = (returns - np.sqrt(returns ** 2 - 2 * variance * np.log(rng.random(len(t))))) / 2
    ticks = 1.0 / sym.tick_size
    if abs(ticks - round(ticks)) < 1e-9:
        ticks = float(round(ticks))  # exact division keeps prices clean (1.08501, not 1.0850100000000002)
    close = np.round(np.exp(log_close) * ticks) / ticks
    open_ = np.empty_like(close)
    open_[0] = np.round(math.exp(log_open[0]) * ticks) / ticks
    open_[1:] = close[:-1]
    high = np.maximum(np.round(np.exp(log_open + up) * ticks) / ticks, np.maximum(open_, close))
    low = np.minimum(np.round(np.exp(log_open + down) * ticks) / ticks, np.minimum(open_, close))
    profile = sym.profile
    rate = profile.trade_rate_per_s * sym.activity * activity * dt / 1000.0
    move = np.abs(returns) / np.maximum(sigma, 1e-300)
    notional = (rate * sizes.mean_usd() * profile.size_scale
                * np.exp(0.35 * rng.standard_normal(len(t)) - 0.06) * (0.6 + 0.5 * move))
    volume = notional / _usd_per_base(sym, close)
    buy_share = np.clip(0.5 + 0.2 * np.tanh(returns / np.maximum(sigma, 1e-300)), 0.05, 0.95)
    return Bars(t, dt, open_, high, low, close, volume, volume * (open_ + close) / 2, np.round(rate),
                volume * buy_share)


def _usd_per_base(sym: SimSymbol, close: np.ndarray) -> np.ndarray:
    if sym.usd_per_base is None and not sym.symbol.startswith("USD"):
        return close
    return np.full(len(close), sym.usd_value_of_base(1.0))


def _is_weekend(ts_ms: np.ndarray | int, fx_weekend: bool) -> np.ndarray:
    """Saturday/Sunday UTC; for FX and metals Friday 21:00 to Sunday 21:00 UTC."""
    shifted = np.asarray(ts_ms) + (3 * HOUR_MS if fx_weekend else 0)  # Fri 21:00 -> Sat 00:00
    weekday = ((shifted - _MONDAY_OFFSET_MS) // DAY_MS) % 7  # Monday 0 .. Sunday 6
    return weekday >= 5


def is_weekend(ts_ms: int, fx_weekend: bool) -> bool:
    return bool(_is_weekend(ts_ms, fx_weekend))


# ---------------------------------------------------------------------------- Binance buckets


def bucket_open_ms(ts_ms: np.ndarray, interval: str) -> np.ndarray:
    """Open time of the Binance ``interval`` bucket holding each timestamp.

    Minutes/hours/days count from the epoch; ``3d`` buckets start on days with
    ``epoch_day % 3 == 1``; ``1w`` on Mondays 00:00 UTC; ``1M`` on the 1st of the month.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    if interval == "1M":
        return ts.astype("datetime64[ms]").astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
    if interval == "1w":
        return (ts - _MONDAY_OFFSET_MS) // _WEEK_MS * _WEEK_MS + _MONDAY_OFFSET_MS
    if interval == "3d":
        return (ts - DAY_MS) // (3 * DAY_MS) * (3 * DAY_MS) + DAY_MS
    length = interval_ms(interval)
    return ts // length * length


def next_bucket_open_ms(bucket_open: np.ndarray, interval: str) -> np.ndarray:
    opens = np.asarray(bucket_open, dtype=np.int64)
    if interval == "1M":
        months = opens.astype("datetime64[ms]").astype("datetime64[M]") + 1
        return months.astype("datetime64[ms]").astype(np.int64)
    return opens + interval_ms(interval)


def finest_bar_ms(interval: str) -> int:
    """Longest bar length that tiles ``interval`` buckets exactly."""
    if interval in ("1M", "1w", "3d"):
        return HOUR_MS
    length = interval_ms(interval)
    for bar in (HOUR_MS, 5 * MINUTE_MS, MINUTE_MS):
        if length % bar == 0:
            return bar
    raise ValueError(f"interval {interval!r} is not a whole number of minutes")


def aggregate(bars: Bars, symbol: str, interval: str, *, limit: int, end_ms: int) -> list[Candle]:
    """Up to ``limit`` complete ``interval`` candles closed at or before ``end_ms`` (oldest first)."""
    if limit <= 0 or len(bars) == 0:
        return []
    usable = bars.dt_ms <= finest_bar_ms(interval)
    nominal = 31 * DAY_MS if interval == "1M" else interval_ms(interval)
    first_wanted = int(bucket_open_ms(np.array([end_ms - (limit + 1) * nominal]), interval)[0])
    ends = bars.open_time_ms + bars.dt_ms
    lo = int(np.searchsorted(bars.open_time_ms, first_wanted, side="left"))
    hi = int(np.searchsorted(ends, end_ms + 1, side="right"))
    rows = np.flatnonzero(usable[lo:hi]) + lo
    if len(rows) == 0:
        return []
    t = bars.open_time_ms[rows]
    buckets = bucket_open_ms(t, interval)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    last = np.r_[starts[1:], len(rows)] - 1
    opens = buckets[starts]
    complete = (t[starts] == opens) & (ends[rows][last] == next_bucket_open_ms(opens, interval))
    keep = np.flatnonzero(complete)[-limit:]
    return _candles(bars, rows, starts, last, opens, keep, symbol, interval)


def _candles(bars: Bars, rows: np.ndarray, starts: np.ndarray, last: np.ndarray, opens: np.ndarray,
             keep: np.ndarray, symbol: str, interval: str) -> list[Candle]:
    high = np.maximum.reduceat(bars.high[rows], starts)
    low = np.minimum.reduceat(bars.low[rows], starts)
    volume = np.add.reduceat(bars.volume[rows], starts)
    quote = np.add.reduceat(bars.quote_volume[rows], starts)
    trades = np.add.reduceat(bars.trades[rows], starts)
    buys = np.add.reduceat(bars.taker_buy_volume[rows], starts)
    first_open = bars.open[rows][starts]
    last_close = bars.close[rows][last]
    columns = [opens[keep].tolist(), first_open[keep].tolist(), high[keep].tolist(), low[keep].tolist(),
               last_close[keep].tolist(), volume[keep].tolist(), quote[keep].tolist(), trades[keep].tolist(),
               buys[keep].tolist()]
    return [Candle(symbol, interval, int(o_t), o, h, l_, c, v, True, q, int(n), b)
            for o_t, o, h, l_, c, v, q, n, b in zip(*columns, strict=True)]
