"""An independent implementation of the S/R zones of ``core.analysis.levels`` for the tests: brute
force swings over each candle's neighbours, calendar-month candle ends, touches merged until nothing
changes, greedy clustering, and the nearest support/resistance of a price."""

from __future__ import annotations

from datetime import UTC, datetime

import talib

from core.analysis.levels import LevelParams
from core.analysis.resample import resample
from core.models import CandleArrays

HTF = ("1h", "4h", "1d", "3d", "1w", "1M")
PARAMS = LevelParams()
Swing = tuple[str, int, int, float, bool]  # (interval, open, end, price, is_high)


def htf_from(source: CandleArrays, ts_ms: int | None = None) -> dict[str, CandleArrays]:
    """Higher timeframes built from ``source`` candles (only those that closed by ``ts_ms``)."""
    if ts_ms is not None:
        source = source.until(ts_ms)
    out = {"1h": source if source.interval == "1h" else resample(source, "1h")}
    out.update({interval: resample(source, interval) for interval in HTF[1:]})
    return out


def last_close(htf: dict[str, CandleArrays], ts_ms: int) -> float:
    hourly = htf["1h"].until(ts_ms)
    return float(hourly.close[-1])


# ---------------------------------------------------------------------------- independent reference


def closed_rows(candles: CandleArrays, ts_ms: int) -> list[tuple[int, int, float, float]]:
    """(open, end, high, low) of candles that ended by ts_ms, computed with calendar months."""
    rows = []
    for i in range(len(candles)):
        start = int(candles.open_time_ms[i])
        if candles.interval == "1M":
            opened = datetime.fromtimestamp(start / 1000, UTC)
            year, month = (opened.year + 1, 1) if opened.month == 12 else (opened.year, opened.month + 1)
            end = int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)
        else:
            end = start + {"1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000, "3d": 259_200_000,
                           "1w": 604_800_000}[candles.interval]
        if end <= ts_ms:
            rows.append((start, end, float(candles.high[i]), float(candles.low[i])))
    return rows[-PARAMS.lookback_candles:]


def reference_swings(htf: dict[str, CandleArrays], ts_ms: int) -> list[tuple[str, int, int, float, bool]]:
    """(interval, open, end, price, is_high) by brute force over each candle's neighbours."""
    swings = []
    for interval in HTF:
        window = PARAMS.swing_window_high_tf if interval in ("3d", "1w", "1M") else PARAMS.swing_window
        rows = closed_rows(htf[interval], ts_ms)
        for i in range(window, len(rows) - window):
            left, right = rows[i - window:i], rows[i + 1:i + 1 + window]
            high, low = rows[i][2], rows[i][3]
            if all(high > r[2] for r in left) and all(high >= r[2] for r in right):
                swings.append((interval, rows[i][0], rows[i][1], high, True))
            if all(low < r[3] for r in left) and all(low <= r[3] for r in right):
                swings.append((interval, rows[i][0], rows[i][1], low, False))
    return swings


def reference_touches(swings: list[tuple[str, int, int, float, bool]]) -> int:
    """Groups of same-kind swings linked by overlapping candles, merged until nothing changes."""
    groups = [{i} for i in range(len(swings))]
    merged = True
    while merged:
        merged = False
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                if any(swings[i][4] == swings[j][4] and swings[i][1] < swings[j][2] and swings[j][1] < swings[i][2]
                       for i in groups[a] for j in groups[b]):
                    groups[a] |= groups.pop(b)
                    merged = True
                    break
            if merged:
                break
    return len(groups)


def reference_tolerance(htf: dict[str, CandleArrays], ts_ms: int) -> float:
    daily = htf["1d"].until(ts_ms)
    daily_atr = talib.ATR(daily.high, daily.low, daily.close, 14)[-1]
    return max(min(last_close(htf, ts_ms) * 0.015, 0.5 * daily_atr), 0.25 * daily_atr)


def reference_zones(htf: dict[str, CandleArrays], ts_ms: int) -> list[tuple[float, float, int]]:
    """(low, high, touches) of every zone with enough touches, lowest first: swings sorted by price,
    a price joins the open cluster while within the tolerance of the cluster's lowest price."""
    swings = sorted(reference_swings(htf, ts_ms), key=lambda s: s[3])
    tolerance = reference_tolerance(htf, ts_ms)
    clusters: list[list[Swing]] = []
    for swing in swings:
        if clusters and swing[3] <= clusters[-1][0][3] + tolerance:
            clusters[-1].append(swing)
        else:
            clusters.append([swing])
    zones = [(c[0][3], c[-1][3], reference_touches(c)) for c in clusters]
    return [z for z in zones if z[2] >= PARAMS.min_touches]


def reference_nearest(zones: list[tuple[float, float, int]], price: float
                      ) -> tuple[tuple[float, float, int] | None, tuple[float, float, int] | None]:
    """(nearest support, nearest resistance): support is below the price or holds it in its upper half."""
    supports = [z for z in zones if price > z[1] or (z[0] <= price and price >= (z[0] + z[1]) / 2)]
    resistances = [z for z in zones if z not in supports]
    support = max(supports, key=lambda z: z[1], default=None)
    resistance = min(resistances, key=lambda z: z[0], default=None)
    return support, resistance
