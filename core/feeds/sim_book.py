"""The simulator's 20-level order book: quotes follow the fair price, trades eat the touch.

Each side is a list of integer tick prices running away from the touch (bids are stored negated
so both sides share one code path) with base-unit quantities. At the start of every step the book
re-anchors to the latent fair price: quotes that would cross it are pulled, the touch is re-quoted
at the fair spread and new levels are added at random gaps. Trades print at the touch and deplete
it (a cleared level disappears); after the step's trades each hit side re-quotes its touch with
probability ``refill_probability``, so a snapshot can show the depletion: a smaller touch, and
now and then a wider spread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.models import BookSnapshot


@dataclass(frozen=True, slots=True)
class BookShape:
    """Level sizes in USD (times the class size scale); gaps in ticks come from the symbol.

    Real BTCUSDT depth20: the touch holds a median ~$125k, other levels ~$4k with many dust
    levels under $100 and occasional walls above $250k.
    """

    levels: int = 20
    one_tick_gap_probability: float = 0.15
    touch_median_usd: float = 130_000.0
    touch_sigma: float = 1.0
    level_median_usd: float = 6_000.0
    level_sigma: float = 1.0
    dust_probability: float = 0.3
    dust_median_usd: float = 20.0
    dust_sigma: float = 1.2
    wall_probability: float = 0.02
    wall_multiplier: float = 25.0
    refill_probability: float = 0.9
    touch_refill_probability: float = 0.1
    changes_per_step: int = 1


_BATCH = 512


class RandomPool:
    """Pre-drawn random numbers handed out one at a time (scalar numpy draws are slow)."""

    def __init__(self, rng: np.random.Generator, size: int = 4096) -> None:
        self._rng = rng
        self._size = size
        self._uniform: list[float] = []
        self._normal: list[float] = []
        self._exponential: list[float] = []

    def uniform(self) -> float:
        if not self._uniform:
            self._uniform = self._rng.random(self._size).tolist()
        return self._uniform.pop()

    def normal(self) -> float:
        if not self._normal:
            self._normal = self._rng.standard_normal(self._size).tolist()
        return self._normal.pop()

    def exponential(self) -> float:
        if not self._exponential:
            self._exponential = self._rng.exponential(size=self._size).tolist()
        return self._exponential.pop()

    @property
    def rng(self) -> np.random.Generator:
        return self._rng


class _Side:
    __slots__ = ("prices", "floats", "qtys", "hit", "target")

    def __init__(self) -> None:
        self.prices: list[int] = []  # ticks, ascending away from the touch (bids negated)
        self.floats: list[float] = []  # the same prices as shown (positive, in quote currency)
        self.qtys: list[float] = []
        self.hit = False  # a trade took liquidity here during this step
        self.target = 0  # where the touch was quoted at the last re-anchor (negated for bids)


class SimBook:
    """One symbol's book in integer ticks; ``usd_to_qty`` converts USD sizes to base units."""

    def __init__(self, shape: BookShape, pool: RandomPool, *, tick_size: float, qty_step: float,
                 gap_mean_ticks: float, size_scale: float) -> None:
        self.shape = shape
        self._pool = pool
        self._gap_mean = max(1.0, gap_mean_ticks)
        self._size_scale = size_scale
        self.ticks_per_unit = 1.0 / tick_size
        self._exact = abs(self.ticks_per_unit - round(self.ticks_per_unit)) < 1e-9
        if self._exact:
            self.ticks_per_unit = float(round(self.ticks_per_unit))
        self._price_digits = max(0, -math.floor(math.log10(tick_size) + 1e-9)) + 2
        self.steps_per_unit = 1.0 / qty_step
        if abs(self.steps_per_unit - round(self.steps_per_unit)) < 1e-9:
            self.steps_per_unit = float(round(self.steps_per_unit))
        self.usd_to_qty = 1.0
        self.bids = _Side()
        self.asks = _Side()
        self._gaps: list[int] = []
        self._level_usd: list[float] = []
        self._touch_usd: list[float] = []

    # ------------------------------------------------------------------ conversions

    def price(self, ticks: int) -> float:
        """Tick count to a clean float price (``ticks`` may be negated: the sign is dropped)."""
        ticks = abs(ticks)
        if self._exact:
            return ticks / self.ticks_per_unit  # correctly rounded, equals float("61837.63")
        return round(ticks / self.ticks_per_unit, self._price_digits)

    def round_qty(self, qty: float) -> float:
        return max(1.0, math.floor(qty * self.steps_per_unit + 0.5)) / self.steps_per_unit

    # ------------------------------------------------------------------ per step

    def reanchor(self, fair_ticks: float, spread_ticks: int) -> None:
        """Pull crossing quotes, refill towards the fair price, keep ``levels`` per side."""
        best_bid = math.floor(fair_ticks - spread_ticks / 2.0)
        self._anchor_side(self.asks, best_bid + spread_ticks)
        self._anchor_side(self.bids, -best_bid)

    def _anchor_side(self, side: _Side, target: int) -> None:
        prices, qtys = side.prices, side.qtys
        cut = 0
        while cut < len(prices) and prices[cut] < target:
            cut += 1
        if cut:
            del prices[:cut], side.floats[:cut], qtys[:cut]
        side.target = target
        side.hit = False
        if not prices or prices[0] > target:
            self._insert_front(side, target)
        depth = self.shape.levels
        while len(prices) < depth:
            self._append(side, (prices[-1] + self._gap()) if prices else target)
        if len(prices) > depth:
            del prices[depth:], side.floats[depth:], qtys[depth:]

    def _append(self, side: _Side, ticks: int) -> None:
        side.prices.append(ticks)
        side.floats.append(self.price(ticks))
        side.qtys.append(self._level_qty())

    def _insert_front(self, side: _Side, target: int) -> None:
        limit = side.prices[0] if side.prices else None
        new_prices = [target]
        new_qtys = [self._touch_qty()]
        price = target + self._gap()
        while len(new_prices) < self.shape.levels and (limit is None or price < limit):
            new_prices.append(price)
            new_qtys.append(self._level_qty())
            price += self._gap()
        side.prices[:0] = new_prices
        side.floats[:0] = [self.price(p) for p in new_prices]
        side.qtys[:0] = new_qtys

    def refill_after_trades(self) -> None:
        """Each side that trades hit this step re-quotes its touch with ``refill_probability``."""
        for side in (self.asks, self.bids):
            if side.hit:
                side.hit = False
                if side.prices[0] > side.target and self._pool.uniform() < self.shape.refill_probability:
                    self._insert_front(side, side.target)
                    del side.prices[self.shape.levels:], side.floats[self.shape.levels:], \
                        side.qtys[self.shape.levels:]

    def breathe(self) -> None:
        """Random size changes away from the touch (orders added and cancelled), and the touch
        requoted at a typical size (``touch_refill_probability`` per side and step), which tops up
        a depleted touch."""
        pool = self._pool
        for side in (self.asks, self.bids):
            if pool.uniform() < self.shape.touch_refill_probability:
                side.qtys[0] = self._touch_qty()  # requoted at a typical touch size
        for _ in range(self.shape.changes_per_step):
            side = self.asks if pool.uniform() < 0.5 else self.bids
            index = 1 + int(pool.uniform() * (len(side.qtys) - 1))
            if index >= len(side.qtys):
                continue
            if pool.uniform() < 0.2:
                side.qtys[index] = self._level_qty()
            else:
                side.qtys[index] = self.round_qty(side.qtys[index] * math.exp(0.4 * pool.normal()))

    def take(self, buy: bool, qty: float, sweep: bool) -> float:
        """Fill a taker order of ``qty`` at the touch; returns the fill price.

        A sweep fill (not the last of its cluster) clears its level so the next fill prints one
        level further away; a fill at least as large as the displayed size also clears it (the
        excess counts as hidden liquidity refreshed within the step).
        """
        side = self.asks if buy else self.bids
        prices, qtys = side.prices, side.qtys
        ticks = prices[0]
        shown = side.floats[0]
        if sweep or qty >= qtys[0]:
            del prices[0], side.floats[0], qtys[0]
            self._append(side, (prices[-1] if prices else ticks) + self._gap())
        else:
            qtys[0] = self.round_qty(qtys[0] - qty)
        side.hit = True
        return shown

    def snapshot(self, symbol: str, ts_ms: int, update_id: int) -> BookSnapshot:
        bids, asks = self.bids, self.asks
        return BookSnapshot(symbol, ts_ms, update_id, tuple(zip(bids.floats, bids.qtys, strict=True)),
                            tuple(zip(asks.floats, asks.qtys, strict=True)))

    @property
    def best_bid_ticks(self) -> int:
        return -self.bids.prices[0]

    @property
    def best_ask_ticks(self) -> int:
        return self.asks.prices[0]

    # ------------------------------------------------------------------ random sizes

    # Drawn in vectorised batches of _BATCH from the shared generator; handed out one by one.

    def _gap(self) -> int:
        if not self._gaps:
            rng, shape = self._pool.rng, self.shape
            gaps = np.maximum(1, np.rint(rng.exponential(self._gap_mean, _BATCH))).astype(np.int64)
            gaps[rng.random(_BATCH) < shape.one_tick_gap_probability] = 1
            self._gaps = gaps.tolist()
        return self._gaps.pop()

    def _touch_qty(self) -> float:
        if not self._touch_usd:
            shape = self.shape
            z = self._pool.rng.standard_normal(_BATCH)
            self._touch_usd = (shape.touch_median_usd * self._size_scale * np.exp(shape.touch_sigma * z)).tolist()
        return self.round_qty(self._touch_usd.pop() * self.usd_to_qty)

    def _level_qty(self) -> float:
        if not self._level_usd:
            self._level_usd = self._draw_level_usd().tolist()
        return self.round_qty(self._level_usd.pop() * self.usd_to_qty)

    def _draw_level_usd(self) -> np.ndarray:
        shape, rng = self.shape, self._pool.rng
        z = rng.standard_normal(_BATCH)
        u = rng.random((2, _BATCH))
        dust = u[0] < shape.dust_probability
        usd = np.where(dust, shape.dust_median_usd * np.exp(shape.dust_sigma * z),
                       shape.level_median_usd * np.exp(shape.level_sigma * z))
        usd[~dust & (u[1] < shape.wall_probability)] *= shape.wall_multiplier
        return usd * self._size_scale
