"""Multi-timeframe support/resistance zones from swing highs and lows.

Method (numbers are the defaults, see ``LevelParams``):
1. Per timeframe (1M/1w/3d/1d/4h/1h, weights 10/8/6/5/3/2) take the last 300 candles that had
   closed by the evaluation time. A swing high is a candle whose high is strictly above the
   ``w`` highs before it and at least the ``w`` highs after it (lows mirrored); ``w`` = 3, or 2
   on 3d/1w/1M. A swing needs its ``w`` right-hand candles closed, so nothing looks ahead.
2. Sort all swing prices and cluster greedily from the bottom: a price joins the open cluster
   while it is within the tolerance of the cluster's lowest price. Tolerance = 1.5 % of the
   reference price (last close of the lowest timeframe), kept between 0.25 and 0.5 x ATR(14) of
   1d: the percent suits crypto (daily ATR 2-7 %), the ATR bounds keep a zone to a fraction of a
   day's range on quiet FX and metals (daily ATR 0.4-1 %), where 1.5 % would be several days'.
3. Touches: swing points in a zone, where points of the same kind (high/low) whose candles
   overlap in time are one touch (a 1d swing high and the 1h swing high inside it are one test
   of the level). Zones with fewer than 2 touches are dropped.
4. Confluence score 0-100 = 35 x min(touches, 6)/6 + 40 x (sum of the weights of the timeframes
   present / sum of all weights) + 25 x exp(-distance / 5 % of price) (distance 0 inside).
   Kind is relative to the price: below (or price in the upper half) is support.
5. Every qualifying zone is kept for the analysis (nearest zones, the protecting zone for the
   stop, targets, the S/R score); ``max_zones`` limits only what a chart draws (``drawn_zones``).

The price-independent part (steps 1-3) only changes when a higher-timeframe candle closes;
``ZoneMemo`` caches it keyed by the last closed candle of every timeframe.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.analysis.indicators import atr
from core.analysis.resample import close_end_ms, closed_count, closed_until
from core.models import CandleArrays, Zone, ZoneKind, interval_ms
from core.tunables import Tunable

DEFAULT_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("1M", 10.0), ("1w", 8.0), ("3d", 6.0), ("1d", 5.0), ("4h", 3.0), ("1h", 2.0))
_HIGH_TIMEFRAMES = frozenset({"3d", "1w", "1M"})

TUNABLES: tuple[Tunable, ...] = (
    Tunable("sr.tolerance_pct", float, 1.5, "width of a zone as a percent of price", 0.05, 10.0, unit="%"),
    Tunable("sr.atr_tolerance_mult", float, 0.25,
            "zone width is at least this many daily ATRs (0 turns ATR-awareness off)", 0.0, 5.0, unit="ATR"),
    Tunable("sr.atr_tolerance_max_mult", float, 0.5,
            "zone width is at most this many daily ATRs (0 turns the cap off)", 0.0, 10.0, unit="ATR"),
    Tunable("sr.min_touches", int, 2, "touches a zone needs to be shown", 1, 20),
    Tunable("sr.swing_window", int, 3, "candles each side a swing must beat (1h/4h/1d)", 1, 20),
    Tunable("sr.swing_window_high_tf", int, 2, "candles each side a swing must beat (3d/1w/1M)", 1, 20),
    Tunable("sr.lookback_candles", int, 300, "closed candles per timeframe searched for swings", 20, 1500),
    Tunable("sr.distance_scale_pct", float, 5.0, "distance at which a zone's proximity score falls to 37%",
            0.1, 50.0, unit="%"),
    Tunable("sr.max_zones", int, 12, "zones drawn on charts, strongest first (the analysis uses every zone)",
            1, 100),
    *(Tunable(f"sr.weight_{interval}", float, weight, f"weight of {interval} swings in zone confluence",
              0.0, 100.0) for interval, weight in DEFAULT_WEIGHTS),
)


@dataclass(frozen=True, slots=True)
class LevelParams:
    tolerance_pct: float = 1.5
    atr_tolerance_mult: float = 0.25
    atr_tolerance_max_mult: float = 0.5
    atr_interval: str = "1d"
    atr_period: int = 14
    min_touches: int = 2
    swing_window: int = 3
    swing_window_high_tf: int = 2
    lookback_candles: int = 300
    distance_scale_pct: float = 5.0
    max_zones: int = 12
    timeframe_weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS
    touch_cap: int = 6
    score_touches: float = 35.0
    score_timeframes: float = 40.0
    score_distance: float = 25.0

    @classmethod
    def from_tunables(cls, values: Mapping[str, Any]) -> LevelParams:
        """Build from a ``TunableValues`` (or any mapping holding the ``sr.*`` names)."""
        weights = tuple((interval, float(values[f"sr.weight_{interval}"])) for interval, _ in DEFAULT_WEIGHTS)
        return cls(tolerance_pct=values["sr.tolerance_pct"], atr_tolerance_mult=values["sr.atr_tolerance_mult"],
                   atr_tolerance_max_mult=values["sr.atr_tolerance_max_mult"],
                   min_touches=values["sr.min_touches"], swing_window=values["sr.swing_window"],
                   swing_window_high_tf=values["sr.swing_window_high_tf"],
                   lookback_candles=values["sr.lookback_candles"],
                   distance_scale_pct=values["sr.distance_scale_pct"], max_zones=values["sr.max_zones"],
                   timeframe_weights=weights)

    def weight(self, interval: str) -> float:
        for name, weight in self.timeframe_weights:
            if name == interval:
                return weight
        return 0.0

    def window(self, interval: str) -> int:
        return self.swing_window_high_tf if interval in _HIGH_TIMEFRAMES else self.swing_window


@dataclass(frozen=True, slots=True)
class SwingPoint:
    interval: str
    open_time_ms: int
    end_ms: int  # exclusive end of the swing candle
    price: float
    is_high: bool


@dataclass(frozen=True, slots=True)
class ZoneCandidate:
    """A clustered zone before it is placed relative to the live price."""

    low: float
    high: float
    touches: int
    timeframes: tuple[str, ...]  # heaviest first
    weight_share: float  # sum of the weights of its timeframes / sum of all weights, 0..1
    swings: tuple[SwingPoint, ...]


# ---------------------------------------------------------------------------- swings


def swing_indices(values: np.ndarray, window: int, *, highs: bool) -> np.ndarray:
    """Indices of swing highs (or lows): strictly beyond the ``window`` values before, at least
    as extreme as the ``window`` values after. Edges without ``window`` neighbours are skipped."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2 * window + 1:
        return np.empty(0, dtype=np.int64)
    if not highs:
        x = -x
    windows = sliding_window_view(x, 2 * window + 1)
    centre = windows[:, window]
    mask = (centre > windows[:, :window].max(axis=1)) & (centre >= windows[:, window + 1:].max(axis=1))
    return np.flatnonzero(mask) + window


def find_swings(candles: CandleArrays, window: int) -> list[SwingPoint]:
    """Swing highs and lows of ``candles`` (all assumed closed), oldest first."""
    ends = close_end_ms(candles.open_time_ms, candles.interval)
    points = []
    for highs, prices in ((True, candles.high), (False, candles.low)):
        for i in swing_indices(prices, window, highs=highs).tolist():
            points.append(SwingPoint(candles.interval, int(candles.open_time_ms[i]), int(ends[i]),
                                     float(prices[i]), highs))
    points.sort(key=lambda p: (p.open_time_ms, not p.is_high))
    return points


def count_touches(swings: tuple[SwingPoint, ...] | list[SwingPoint]) -> int:
    """Distinct tests of a level: same-kind swings whose candles overlap in time count once
    (connected components of the overlap relation)."""
    parent = list(range(len(swings)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(swings):
        for j in range(i + 1, len(swings)):
            b = swings[j]
            if a.is_high == b.is_high and a.open_time_ms < b.end_ms and b.open_time_ms < a.end_ms:
                parent[root(i)] = root(j)
    return len({root(i) for i in range(len(swings))})


# ---------------------------------------------------------------------------- clustering


def _closed_windows(htf: Mapping[str, CandleArrays], ts_ms: int, params: LevelParams) -> dict[str, CandleArrays]:
    out = {}
    for interval, candles in htf.items():
        if params.weight(interval) <= 0:
            continue
        closed = closed_until(candles, ts_ms)
        out[interval] = closed.tail(params.lookback_candles) if len(closed) > params.lookback_candles else closed
    return out


def zone_tolerance(htf: Mapping[str, CandleArrays], ts_ms: int, params: LevelParams) -> float:
    """Cluster width in price units at ``ts_ms`` (0 when there is no closed candle at all)."""
    closed = {k: closed_until(v, ts_ms) for k, v in htf.items()}
    closed = {k: v for k, v in closed.items() if len(v)}
    if not closed:
        return 0.0
    lowest = min(closed, key=interval_ms)
    return tolerance_from(float(closed[lowest].close[-1]), daily_atr(closed.get(params.atr_interval), params), params)


def daily_atr(daily: CandleArrays | None, params: LevelParams) -> float:
    """ATR of the closed daily candles that bounds the tolerance; NaN when unused or unknown."""
    uses_atr = params.atr_tolerance_mult > 0 or params.atr_tolerance_max_mult > 0
    if not uses_atr or daily is None or len(daily) <= params.atr_period:
        return math.nan
    tail = daily.tail(params.atr_period * 10)
    return float(atr(tail.high, tail.low, tail.close, params.atr_period)[-1])


def tolerance_from(reference_close: float, atr_value: float, params: LevelParams) -> float:
    """The percent of the reference close, kept between the ATR bounds when the ATR is known."""
    tolerance = reference_close * params.tolerance_pct / 100.0
    if not atr_value > 0:  # NaN or a flat history: the percent alone
        return tolerance
    if params.atr_tolerance_max_mult > 0:
        tolerance = min(tolerance, params.atr_tolerance_max_mult * atr_value)
    return max(tolerance, params.atr_tolerance_mult * atr_value)


def zone_candidates(htf: Mapping[str, CandleArrays], ts_ms: int,
                    params: LevelParams = LevelParams()) -> tuple[ZoneCandidate, ...]:
    """Price-independent zones from the candles closed by ``ts_ms``, lowest price first."""
    windows = _closed_windows(htf, ts_ms, params)
    swings = [p for interval, c in windows.items() for p in find_swings(c, params.window(interval))]
    tolerance = zone_tolerance(htf, ts_ms, params)
    if not swings or tolerance <= 0:
        return ()
    swings.sort(key=lambda p: (p.price, p.open_time_ms, p.interval))
    total_weight = sum(w for _, w in params.timeframe_weights) or 1.0
    out: list[ZoneCandidate] = []
    cluster = [swings[0]]
    for point in swings[1:]:
        if point.price <= cluster[0].price + tolerance:
            cluster.append(point)
            continue
        out.extend(cluster_candidate(cluster, params, total_weight))
        cluster = [point]
    out.extend(cluster_candidate(cluster, params, total_weight))
    return tuple(out)


def cluster_candidate(cluster: list[SwingPoint], params: LevelParams, total_weight: float) -> list[ZoneCandidate]:
    """The zone of one cluster of swings (sorted by price), or nothing when it has too few touches."""
    touches = count_touches(cluster)
    if touches < params.min_touches:
        return []
    timeframes = sorted({p.interval for p in cluster}, key=lambda i: (-params.weight(i), interval_ms(i)))
    share = sum(params.weight(i) for i in timeframes) / total_weight
    return [ZoneCandidate(cluster[0].price, cluster[-1].price, touches, tuple(timeframes), share,
                          tuple(cluster))]


# ---------------------------------------------------------------------------- ranking


def zone_kind(low: float, high: float, price: float) -> ZoneKind:
    if price > high or (price >= low and price >= (low + high) / 2.0):
        return ZoneKind.SUPPORT
    return ZoneKind.RESISTANCE


def distance_to_zone(low: float, high: float, price: float) -> float:
    """Price distance to the nearest edge; 0 when the price is inside the zone."""
    return max(low - price, price - high, 0.0)


def confluence_score(candidate: ZoneCandidate, price: float, params: LevelParams = LevelParams()) -> float:
    touch_part = min(candidate.touches, params.touch_cap) / params.touch_cap
    distance_pct = 100.0 * distance_to_zone(candidate.low, candidate.high, price) / price
    proximity = math.exp(-distance_pct / params.distance_scale_pct)
    score = (params.score_touches * touch_part + params.score_timeframes * candidate.weight_share
             + params.score_distance * proximity)
    return round(min(100.0, max(0.0, score)), 2)


def rank_zones(candidates: tuple[ZoneCandidate, ...], price: float,
               params: LevelParams = LevelParams()) -> tuple[Zone, ...]:
    """Every zone placed relative to ``price``: kind and score set, strongest first (no limit: the
    nearest zone may be a weak one; ``drawn_zones`` picks what a chart shows)."""
    zones = [Zone(c.low, c.high, zone_kind(c.low, c.high, price), c.touches, c.timeframes,
                  confluence_score(c, price, params)) for c in candidates]
    zones.sort(key=lambda z: (-z.score, distance_to_zone(z.low, z.high, price), z.low))
    return tuple(zones)


def drawn_zones(zones: tuple[Zone, ...], max_zones: int) -> tuple[Zone, ...]:
    """What a chart draws: the ``max_zones`` strongest (``zones`` come strongest first), plus the
    nearest support and resistance when they are weaker, so the chart shows the zones the card names."""
    drawn = list(zones[:max_zones])
    for zone in (nearest_support(zones), nearest_resistance(zones)):
        if zone is not None and zone not in drawn:
            drawn.append(zone)
    return tuple(drawn)


def find_zones(htf: Mapping[str, CandleArrays], price: float, ts_ms: int,
               params: LevelParams = LevelParams()) -> tuple[Zone, ...]:
    """Support/resistance zones at ``ts_ms`` for ``price`` (uncached; see ``ZoneMemo``)."""
    return rank_zones(zone_candidates(htf, ts_ms, params), price, params)


def nearest_support(zones: tuple[Zone, ...]) -> Zone | None:
    """The highest support zone (zones are already placed relative to the price)."""
    return max((z for z in zones if z.kind is ZoneKind.SUPPORT), key=lambda z: (z.high, z.low), default=None)


def nearest_resistance(zones: tuple[Zone, ...]) -> Zone | None:
    """The lowest resistance zone."""
    return min((z for z in zones if z.kind is ZoneKind.RESISTANCE), key=lambda z: (z.low, z.high), default=None)


# ---------------------------------------------------------------------------- memo


class ZoneMemo:
    """Caches ``zone_candidates`` per symbol until a higher-timeframe candle closes.

    The key is the symbol, the params and, per timeframe, the open time of the last candle closed
    by ``ts_ms``, how many closed candles there are and the sums of their highs and lows (a candle
    repaired in place changes them); live price changes reuse the entry.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self._entries: OrderedDict[tuple, tuple[ZoneCandidate, ...]] = OrderedDict()
        self._max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def candidates(self, symbol: str, htf: Mapping[str, CandleArrays], ts_ms: int,
                   params: LevelParams = LevelParams()) -> tuple[ZoneCandidate, ...]:
        key = (symbol, params, _closed_key(htf, ts_ms))
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        found = zone_candidates(htf, ts_ms, params)
        self._entries[key] = found
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return found

    def zones(self, symbol: str, htf: Mapping[str, CandleArrays], price: float, ts_ms: int,
              params: LevelParams = LevelParams()) -> tuple[Zone, ...]:
        return rank_zones(self.candidates(symbol, htf, ts_ms, params), price, params)


def _closed_key(htf: Mapping[str, CandleArrays], ts_ms: int) -> tuple:
    key = []
    for interval in sorted(htf):
        candles = htf[interval]
        count = closed_count(candles, ts_ms)
        last_open = int(candles.open_time_ms[count - 1]) if count else -1
        first_open = int(candles.open_time_ms[0]) if count else -1
        # the sums notice a closed candle replaced in place (a derived one repaired from REST)
        key.append((interval, first_open, last_open, count, float(candles.high[:count].sum()),
                    float(candles.low[:count].sum())))
    return tuple(key)
