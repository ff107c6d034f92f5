"""The market simulator's engine: a seeded market for every default symbol, as core events.

Per 100 ms step and symbol the simulator draws a latent fair-price move (regime, intraday and
weekly seasonality, a slow volatility factor, activity-scaled so bursts move prices), re-anchors
the 20-level book around it, prints bursty taker orders at the touch (sweeps walk the book) and
emits ``Trade``s, a ``BookSnapshot`` and, at each whole second, one closed 1 s ``Candle`` per
symbol built from that second's trades (flat when none). ``history``/``klines`` serve years of
Binance-aligned candles from the same process, ending where the live price starts, followed by
the live 1 m bars. Everything is a pure function of (symbols, seed, start time, params).
Calibration and tolerances: docs/simulator.md.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from core.feeds.sim_book import RandomPool, SimBook
from core.feeds.sim_history import Bars, aggregate, generate_history, history_start_ms, is_weekend
from core.feeds.sim_params import SimParams
from core.feeds.sim_profiles import DEFAULT_SIM_SYMBOLS, HOUR_MS, SimSymbol, sim_symbols_for
from core.feeds.sim_regimes import Regime, RegimeTimeline, build_timeline, slow_vol_path
from core.feeds.sim_state import MINUTE_MS, SymbolState
from core.market.symbols import SymbolSpec
from core.models import BookSnapshot, Candle, DataSource, MarketEvent, Side, Trade


class MarketSimulator:
    """Deterministic market generator; also a ``HistoryProvider`` (``klines``)."""

    source = DataSource.SIMULATED

    def __init__(self, symbols: Iterable[SimSymbol | SymbolSpec | str] | None = None, seed: int = 0,
                 clock_start_ms: int = 1_700_000_040_000, params: SimParams | None = None) -> None:
        self.params = params or SimParams()
        if 1000 % self.params.step_ms:
            raise ValueError(f"step_ms must divide 1000; got {self.params.step_ms}")
        self.seed = seed
        if symbols is not None and hasattr(symbols, "specs"):
            symbols = symbols.specs()  # a SymbolMap
        specs = sim_symbols_for(DEFAULT_SIM_SYMBOLS if symbols is None else symbols)
        if not specs:
            raise ValueError("the simulator needs at least one symbol")
        self.start_ms = clock_start_ms - clock_start_ms % MINUTE_MS
        self._now_ms = self.start_ms
        self._step_index = 0
        self._rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x51A1,)))
        self._pool = RandomPool(self._rng)
        self._states = [SymbolState(s, self._make_book(s)) for s in specs]
        self._by_name = {st.spec.symbol: i for i, st in enumerate(self._states)}
        self._timelines: list[RegimeTimeline] = []
        self._slow_hourly: list[np.ndarray] = []
        self._history: dict[str, Bars] = {}
        self._combined: dict[str, tuple[int, Bars]] = {}
        self._init_arrays(specs)
        self._init_from_history_state()
        self._next_update_ms = self._now_ms
        self._update_conditions(self._now_ms)
        for i, st in enumerate(self._states):
            self._anchor_book(i, st)

    # ------------------------------------------------------------------ set-up

    def _make_book(self, spec: SimSymbol) -> SimBook:
        return SimBook(self.params.book, self._pool, tick_size=spec.tick_size, qty_step=spec.qty_step,
                       gap_mean_ticks=spec.level_gap_ticks, size_scale=spec.profile.size_scale)

    def _init_arrays(self, specs: Sequence[SimSymbol]) -> None:
        n = len(specs)
        self._index = np.arange(n)
        self._log_fair = np.log([s.start_price for s in specs])
        self._anchor = self._log_fair.copy()
        self._excitation = np.zeros(n)
        self._bias = np.zeros(n)
        self._slow = np.zeros(n)
        self._ticks_per_unit = np.array([s.book.ticks_per_unit for s in self._states])
        self._size_scale = np.array([s.profile.size_scale for s in specs])
        self._mu_bg = np.zeros(n)
        self._mu_burst = np.zeros(n)
        self._sigma_step = np.zeros(n)
        self._drift_step = np.zeros(n)
        self._pull_step = np.zeros(n)
        self._spread = [1] * n

    def _symbol_rng(self, symbol: str, stream: int) -> np.random.Generator:
        key = (zlib.crc32(symbol.encode()), stream)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def _init_from_history_state(self) -> None:
        """Regime, trend and slow volatility at the start continue the history's process."""
        p = self.params
        hist_start = history_start_ms(self.start_ms, p.history_shape())
        hours = (self.start_ms - 1 - hist_start) // HOUR_MS + 1
        for i, st in enumerate(self._states):
            rng = self._symbol_rng(st.spec.symbol, 1)
            timeline = build_timeline(p.regimes, rng, hist_start, self.start_ms)
            slow = slow_vol_path(rng, hours, p.slow_vol_half_life_h, p.slow_vol_sd)
            self._timelines.append(timeline)
            self._slow_hourly.append(slow)
            segment = int(timeline.index_at(self.start_ms - 1))
            st.regime = Regime(int(timeline.regime[segment]))
            st.trend_sign = int(timeline.trend_sign[segment])
            st.regime_end_ms = timeline.segment_end_ms(segment)
            if p.fixed_regime is not None:
                st.regime = Regime(p.fixed_regime)
                st.regime_end_ms = 2 ** 62
            self._slow[i] = slow[-1]
            if p.initial_vol_factor is not None:
                self._slow[i] = math.log(p.initial_vol_factor) + p.slow_vol_sd ** 2
        self._vol_factor = np.exp(self._slow - p.slow_vol_sd ** 2)

    def _anchor_book(self, i: int, st: SymbolState) -> None:
        price = math.exp(self._log_fair[i])
        st.book.usd_to_qty = 1.0 / st.spec.usd_value_of_base(price)
        st.book.reanchor(price * self._ticks_per_unit[i], self._spread[i])

    # ------------------------------------------------------------------ conditions

    def _update_conditions(self, t: int) -> None:
        """Regime switches and hour-of-day factors; runs at hour boundaries and regime ends."""
        p = self.params
        model = p.regimes
        vol_mult = model.vol_multipliers()
        step_s = p.step_ms / 1000.0
        cluster_mean = p.clusters.mean()
        arrivals = p.arrivals
        pull_per_step = 1 - 0.5 ** (p.step_ms / (model.range_half_life_hours * HOUR_MS))
        next_update = (t // HOUR_MS + 1) * HOUR_MS
        for i, st in enumerate(self._states):
            while t >= st.regime_end_ms:
                self._switch_regime(i, st)
            next_update = min(next_update, st.regime_end_ms)
            spec, profile = st.spec, st.spec.profile
            weekday, weekend = profile.week_factors()
            season = profile.hour_factors()[(t // HOUR_MS) % 24]
            season *= weekend if is_weekend(t, profile.fx_weekend) else weekday
            regime = int(st.regime)
            per_s = spec.annual_vol / math.sqrt(profile.trading_days_per_year * 86_400) * p.volatility_scale
            self._sigma_step[i] = per_s * math.sqrt(step_s) * vol_mult[regime] * season
            clusters = (profile.trade_rate_per_s * spec.activity * model.rate[regime] * season
                        * p.activity_scale * step_s / cluster_mean)
            self._mu_bg[i] = clusters * arrivals.background_share
            self._mu_burst[i] = clusters * (1 - arrivals.background_share) * (1 - arrivals.branching)
            hourly = per_s * 60.0 * vol_mult[regime] * season
            trending = st.regime is Regime.TRENDING
            self._drift_step[i] = (st.trend_sign * model.trend_drift_sigmas_per_hour * hourly
                                   * p.step_ms / HOUR_MS) if trending else 0.0
            self._pull_step[i] = pull_per_step if st.regime is Regime.CALM else 0.0
            self._spread[i] = max(1, round(spec.spread_ticks * model.spread[regime]))
        self._cluster_rate = self._mu_bg + self._mu_burst / (1 - arrivals.branching)
        self._next_update_ms = next_update

    def _switch_regime(self, i: int, st: SymbolState) -> None:
        model, pool = self.params.regimes, self._pool
        st.regime = Regime(model.next_regime(int(st.regime), pool.uniform()))
        st.trend_sign = 1 if pool.uniform() < 0.5 else -1
        st.regime_end_ms += model.duration_ms(int(st.regime), pool.exponential())
        if st.regime is Regime.CALM:
            self._anchor[i] = self._log_fair[i]

    # ------------------------------------------------------------------ stepping

    @property
    def now_ms(self) -> int:
        """Simulated time: the start of the next step."""
        return self._now_ms

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(st.spec.symbol for st in self._states)

    def step(self) -> list[MarketEvent]:
        """Advance one step: trades (time order), then book snapshots, then closed 1 s candles."""
        p = self.params
        t = self._now_ms
        if t >= self._next_update_ms:
            self._update_conditions(t)
        z, p_buy, counts = self._draw_step()
        fair = np.exp(self._log_fair)
        fair_ticks = (fair * self._ticks_per_unit).tolist()
        fair_list = fair.tolist()
        events: list[MarketEvent] = []
        for i, st in enumerate(self._states):
            book = st.book
            book.usd_to_qty = 1.0 / st.spec.usd_value_of_base(fair_list[i])
            book.reanchor(fair_ticks[i], self._spread[i])
            book.breathe()
        if counts.any():
            self._print_trades(t, counts, p_buy, events)
            for st in self._states:
                st.book.refill_after_trades()
        self._step_index += 1
        end = t + p.step_ms
        if p.book_every_steps and self._step_index % p.book_every_steps == 0:
            events.extend(self._snapshots(end - 1))
        if end % 1000 == 0:
            second = end - 1000
            events.extend([st.close_second(second) for st in self._states])
            self._update_slow_vol()
        self._now_ms = end
        return events

    def _draw_step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised over symbols: arrivals, the latent return, the buy probability."""
        p, rng = self.params, self._rng
        decay, excite = p.arrivals.per_step(p.step_ms / 1000.0)
        vol_factor = self._vol_factor
        background = self._mu_bg * vol_factor
        burst = self._mu_burst * vol_factor + self._excitation
        n_burst = rng.poisson(burst)
        counts = rng.poisson(background) + n_burst
        self._excitation = self._excitation * decay + excite * n_burst
        activity = (background + burst) / np.maximum(self._cluster_rate * vol_factor, 1e-12)
        z = rng.standard_normal(len(self._states))
        sigma = self._sigma_step * vol_factor * np.sqrt(activity)
        self._log_fair += sigma * z + self._drift_step - self._pull_step * (self._log_fair - self._anchor)
        flow = p.aggressors
        self._bias = self._bias * flow.persistence + flow.innovation_sd() * rng.standard_normal(len(self._states))
        p_buy = np.clip(0.5 + self._bias + flow.price_coupling * z, 0.5 - flow.clip, 0.5 + flow.clip)
        return z, p_buy, counts

    def _print_trades(self, t: int, counts: np.ndarray, p_buy: np.ndarray, events: list[MarketEvent]) -> None:
        """Taker orders in time order; each prints its cluster of fills at the touch."""
        p, rng = self.params, self._rng
        owner = np.repeat(self._index, counts)
        u = rng.random((4, len(owner)))
        offsets = (u[0] * p.step_ms).astype(np.int64)
        buys = (u[1] < p_buy[owner]).tolist()
        fills = p.clusters.sample(u[2], u[3])
        notional = p.sizes.sample(rng, int(fills.sum())) * np.repeat(self._size_scale[owner], fills)
        first_fill = (np.cumsum(fills) - fills).tolist()
        notional_list = notional.tolist()
        owner_list, offset_list, fill_list = owner.tolist(), offsets.tolist(), fills.tolist()
        states = self._states
        for order in np.lexsort((owner, offsets)).tolist():
            st = states[owner_list[order]]
            book, symbol = st.book, st.spec.symbol
            ts, buy, n = t + offset_list[order], buys[order], fill_list[order]
            side = Side.BUY if buy else Side.SELL
            base = first_fill[order]
            for j in range(n):
                qty = book.round_qty(notional_list[base + j] * book.usd_to_qty)
                price = book.take(buy, qty, j < n - 1)
                st.trade_id += 1
                events.append(Trade(symbol, st.trade_id, price, qty, ts, side))
                st.add_trade(price, qty, buy)

    def _snapshots(self, ts_ms: int) -> list[BookSnapshot]:
        out = []
        for st in self._states:
            st.update_id += 1 + st.count
            out.append(st.book.snapshot(st.spec.symbol, ts_ms, st.update_id))
        return out

    def _update_slow_vol(self) -> None:
        p = self.params
        a = 0.5 ** (1.0 / (p.slow_vol_half_life_h * 3600.0))
        shocks = self._rng.standard_normal(len(self._states))
        self._slow = self._slow * a + p.slow_vol_sd * math.sqrt(1 - a * a) * shocks
        self._vol_factor = np.exp(self._slow - p.slow_vol_sd ** 2)

    def steps(self, count: int) -> list[MarketEvent]:
        """Advance ``count`` steps (no sleeping) and return their events."""
        events: list[MarketEvent] = []
        for _ in range(count):
            events.extend(self.step())
        return events

    def run_until(self, ts_ms: int) -> list[MarketEvent]:
        """Advance until ``now_ms >= ts_ms`` (whole steps) and return the events."""
        events: list[MarketEvent] = []
        while self._now_ms < ts_ms:
            events.extend(self.step())
        return events

    def stream_until(self, ts_ms: int, handler: Callable[[MarketEvent], None]) -> int:
        """Like ``run_until`` but hands each event to ``handler`` (no big list); returns the count."""
        count = 0
        while self._now_ms < ts_ms:
            events = self.step()
            for event in events:
                handler(event)
            count += len(events)
        return count

    # ------------------------------------------------------------------ inspection

    def last_price(self, symbol: str) -> float:
        """Close of the last full second (the start price before any)."""
        return self._states[self._position(symbol)].last_price

    def fair_price(self, symbol: str) -> float:
        return float(math.exp(self._log_fair[self._position(symbol)]))

    def regime(self, symbol: str) -> Regime:
        return self._states[self._position(symbol)].regime

    def _position(self, symbol: str) -> int:
        try:
            return self._by_name[symbol]
        except KeyError:
            raise KeyError(f"{symbol!r} is not simulated; symbols: {', '.join(self._by_name)}") from None

    # ------------------------------------------------------------------ history

    def history(self, symbol: str, interval: str, limit: int = 500, end_ms: int | None = None) -> list[Candle]:
        """Closed ``interval`` candles (1m..1M), oldest first, ending at or before ``end_ms``.

        History before the start comes from the same seeded process; after it, from the live 1 m
        bars. 1m/3m reach back ``fine_1m_days``, 5m..30m ``fine_5m_days``, 1h and up
        ``history_days`` before the start.
        """
        i = self._position(symbol)
        bars = self._bars(i)
        return aggregate(bars, symbol, interval, limit=limit, end_ms=self._now_ms if end_ms is None else end_ms)

    async def klines(self, symbol: str, interval: str, *, limit: int = 500,
                     end_ms: int | None = None) -> list[Candle]:
        """``HistoryProvider`` port: same as ``history``."""
        return self.history(symbol, interval, limit, end_ms)

    def _bars(self, i: int) -> Bars:
        st = self._states[i]
        symbol = st.spec.symbol
        if symbol not in self._history:
            p = self.params
            self._history[symbol] = generate_history(
                st.spec, end_ms=self.start_ms, shape=p.history_shape(), regimes=p.regimes,
                timeline=self._timelines[i], slow_vol_hourly=self._slow_hourly[i], sizes=p.sizes,
                rng=self._symbol_rng(symbol, 2))
        cached = self._combined.get(symbol)
        if cached is None or cached[0] != len(st.live_bars):
            cached = (len(st.live_bars), self._history[symbol].extended(st.live_bars))
            self._combined[symbol] = cached
        return cached[1]
