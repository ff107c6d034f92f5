"""``analyse`` at many moments of fixed candle series: the same answers, computed a few times faster.

``SeriesAnalyser(symbol, htf, params).at(ts_ms, price, spread)`` equals
``analyse(AnalysisInput(symbol, ts_ms, price, REPLAY, htf, spread=spread, has_order_flow=False), params)``
(the tests compare both on real data). It shares every rule with ``analyse`` through
``core.analysis.engine.analyse_with``; only the two costly parts are organised differently:

- timeframe states: ``timeframe_state`` of the closed candles, computed once per closed candle of
  each timeframe (not once per call and timeframe);
- zone candidates: swing highs and lows are found once over each whole series. A swing inside the
  lookback window is exactly a whole-series swing whose ``w`` neighbours on both sides are inside the
  window, so each call only selects an index range. The swings are ordered as ``zone_candidates``
  orders them (price, open time, interval, then their original order), clustered greedily with the
  same tolerance (``zone_tolerance``), and each cluster becomes a candidate through the same
  ``cluster_candidate``, memoised by the swings it holds (most clusters survive from one hour to the
  next).
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

from core.analysis.engine import analyse_with
from core.analysis.inputs import AnalysisInput
from core.analysis.levels import (
    LevelParams,
    SwingPoint,
    ZoneCandidate,
    cluster_candidate,
    daily_atr,
    rank_zones,
    swing_indices,
    tolerance_from,
)
from core.analysis.states import TimeframeState, timeframe_state
from core.analysis.synthesis import Analysis, AnalysisParams
from core.models import HTF_INTERVALS, CandleArrays, DataSource, close_end_ms, interval_ms

_MEMO_LIMIT = 200_000


class SeriesAnalyser:
    def __init__(self, symbol: str, htf: dict[str, CandleArrays], params: AnalysisParams = AnalysisParams(),
                 *, source: DataSource = DataSource.REPLAY) -> None:
        self.symbol, self.params, self.source = symbol, params, source
        self.htf = {i: htf[i] for i in HTF_INTERVALS if i in htf}
        self._ends = {i: close_end_ms(c.open_time_ms, i).tolist() for i, c in self.htf.items()}
        self._by_length = sorted(self.htf, key=interval_ms)
        self._windows: dict[str, tuple[int, CandleArrays]] = {}
        self._states: dict[str, tuple[int, TimeframeState | None]] = {}
        self._atr: tuple[int, float] = (-1, math.nan)
        self._swings = _AllSwings(self.htf, params.levels)
        self._total_weight = sum(w for _, w in params.levels.timeframe_weights) or 1.0
        self._clusters: dict[tuple[int, ...], list[ZoneCandidate]] = {}

    def window(self, interval: str, ts_ms: int) -> CandleArrays | None:
        """The candles of ``interval`` closed by ``ts_ms`` (None for a timeframe it does not have)."""
        ends = self._ends.get(interval)
        return None if ends is None else self._window(interval, bisect_right(ends, ts_ms))

    def closed_counts(self, ts_ms: int) -> dict[str, int]:
        return {i: bisect_right(ends, ts_ms) for i, ends in self._ends.items()}

    def at(self, ts_ms: int, price: float, spread: float | None = None) -> Analysis:
        counts = self.closed_counts(ts_ms)
        windows = {i: self._window(i, n) for i, n in counts.items()}
        states = {}
        for interval in self.htf:
            state = self._state(interval, counts[interval], windows[interval])
            if state is not None:
                states[interval] = state
        zones = rank_zones(self.zone_candidates(counts, windows), price, self.params.levels)
        inp = AnalysisInput(self.symbol, ts_ms, price, self.source, htf=windows, spread=spread, has_order_flow=False)
        return analyse_with(inp, self.params, states, zones)

    def zone_candidates(self, counts: dict[str, int], windows: dict[str, CandleArrays]) -> tuple[ZoneCandidate, ...]:
        """Equal to ``zone_candidates(htf, ts_ms, params.levels)`` for the closed ``counts`` at ``ts_ms``."""
        levels = self.params.levels
        prices, ids = self._swings.select(counts, levels)
        tolerance = self._tolerance(counts, windows)
        if not prices or tolerance <= 0:
            return ()
        out: list[ZoneCandidate] = []
        i, n = 0, len(prices)
        while i < n:
            j = bisect_right(prices, prices[i] + tolerance, i)
            if j - i >= levels.min_touches:
                out.extend(self._cluster(tuple(ids[i:j])))
            i = j
        return tuple(out)

    # ------------------------------------------------------------------ internals

    def _window(self, interval: str, count: int) -> CandleArrays:
        cached = self._windows.get(interval)
        if cached is not None and cached[0] == count:
            return cached[1]
        c = self.htf[interval]
        window = c if count == len(c) else CandleArrays(
            c.symbol, c.interval, c.open_time_ms[:count], c.open[:count], c.high[:count], c.low[:count],
            c.close[:count], c.volume[:count])
        self._windows[interval] = (count, window)
        return window

    def _state(self, interval: str, count: int, window: CandleArrays) -> TimeframeState | None:
        cached = self._states.get(interval)
        if cached is not None and cached[0] == count:
            return cached[1]
        state = timeframe_state(window, self.params.indicators) if count else None
        self._states[interval] = (count, state)
        return state

    def _tolerance(self, counts: dict[str, int], windows: dict[str, CandleArrays]) -> float:
        """Equal to ``zone_tolerance``; the daily ATR is computed once per closed daily candle."""
        lowest = next((i for i in self._by_length if counts[i]), None)
        if lowest is None:
            return 0.0
        levels = self.params.levels
        daily_count = counts.get(levels.atr_interval, 0)
        if self._atr[0] != daily_count:
            daily = windows[levels.atr_interval] if daily_count else None
            self._atr = (daily_count, daily_atr(daily, levels))
        return tolerance_from(float(windows[lowest].close[-1]), self._atr[1], levels)

    def _cluster(self, key: tuple[int, ...]) -> list[ZoneCandidate]:
        found = self._clusters.get(key)
        if found is None:
            if len(self._clusters) > _MEMO_LIMIT:
                self._clusters.clear()
            points = self._swings.points
            found = cluster_candidate([points[i] for i in key], self.params.levels, self._total_weight)
            self._clusters[key] = found
        return found


class _AllSwings:
    """Every swing of every weighted timeframe, found once over the whole series, in the order
    ``zone_candidates`` sorts them: price, open time, interval name, then timeframe order and
    ``find_swings`` order (open time, highs first). Any window's swings keep that relative order."""

    def __init__(self, htf: dict[str, CandleArrays], levels: LevelParams) -> None:
        rows: list[tuple[float, int, str, int, int, int, SwingPoint]] = []  # price, open, name, tf, index, kind, point
        self.intervals = [i for i in htf if levels.weight(i) > 0]
        for tf, interval in enumerate(self.intervals):
            candles = htf[interval]
            ends = close_end_ms(candles.open_time_ms, interval)
            for highs, values in ((True, candles.high), (False, candles.low)):
                for k in swing_indices(values, levels.window(interval), highs=highs).tolist():
                    point = SwingPoint(interval, int(candles.open_time_ms[k]), int(ends[k]), float(values[k]), highs)
                    rows.append((point.price, point.open_time_ms, interval, tf, k, 0 if highs else 1, point))
        rows.sort(key=lambda row: row[:6])
        self.points = [row[6] for row in rows]
        self._price = np.array([row[0] for row in rows], dtype=np.float64)
        self._tf = np.array([row[3] for row in rows], dtype=np.int64)
        self._index = np.array([row[4] for row in rows], dtype=np.int64)
        self._windows = {i: levels.window(i) for i in self.intervals}

    def select(self, counts: dict[str, int], levels: LevelParams) -> tuple[list[float], list[int]]:
        """(prices, global ids) of the swings inside each timeframe's lookback window, in order."""
        if not self.points:
            return [], []
        low = np.empty(len(self.intervals), dtype=np.int64)
        high = np.empty(len(self.intervals), dtype=np.int64)
        for tf, interval in enumerate(self.intervals):
            end, w = counts[interval], self._windows[interval]
            low[tf] = max(0, end - levels.lookback_candles) + w
            high[tf] = end - 1 - w
        mask = (self._index >= low[self._tf]) & (self._index <= high[self._tf])
        ids = np.flatnonzero(mask)
        return self._price[ids].tolist(), ids.tolist()
