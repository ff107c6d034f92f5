"""Book sanity, trades at the touch, and 1 s candles that are exactly their second's trades."""

from __future__ import annotations

import gzip
import json
import math
from collections import defaultdict

import numpy as np
import pytest

from core.feeds.sim_book import BookShape, RandomPool, SimBook
from core.feeds.simulator import DEFAULT_SIM_SYMBOLS, MarketSimulator, Regime, SimParams
from core.models import BookSnapshot, Candle, Trade
from tests.paths import BINANCE_DATA

WEDNESDAY_MS = 1_750_255_200_000  # 2025-06-18 14:00 UTC, London/New York overlap
SATURDAY_MS = 1_750_500_000_000  # 2025-06-21 10:00 UTC
TICKS = {s.symbol: s.tick_size for s in DEFAULT_SIM_SYMBOLS}


@pytest.fixture(scope="module")
def two_minutes() -> tuple[MarketSimulator, list]:
    sim = MarketSimulator(seed=4, clock_start_ms=WEDNESDAY_MS)
    return sim, sim.steps(1200)


def on_grid(price: float, tick: float) -> bool:
    return abs(price / tick - round(price / tick)) < 1e-6


def test_every_symbol_gets_a_snapshot_every_100ms_and_a_candle_every_second(two_minutes):
    sim, events = two_minutes
    for symbol in sim.symbols:
        books = [e for e in events if isinstance(e, BookSnapshot) and e.symbol == symbol]
        seconds = [e for e in events if isinstance(e, Candle) and e.symbol == symbol]
        assert len(books) == 1200 and len(seconds) == 120
        assert [b.ts_ms for b in books] == [sim.start_ms + 100 * i + 99 for i in range(1200)]
        assert [c.open_time_ms for c in seconds] == [sim.start_ms + 1000 * i for i in range(120)]


def test_books_have_20_sorted_levels_on_the_tick_grid_and_never_cross(two_minutes):
    _, events = two_minutes
    for book in (e for e in events if isinstance(e, BookSnapshot)):
        tick = TICKS[book.symbol]
        bids = [p for p, _ in book.bids]
        asks = [p for p, _ in book.asks]
        assert len(bids) == len(asks) == 20
        assert all(a > b for a, b in zip(bids, bids[1:], strict=False))
        assert all(b > a for a, b in zip(asks, asks[1:], strict=False))
        assert book.spread > 0 and bids[0] < asks[0]
        assert all(q > 0 for _, q in book.bids + book.asks)
        assert all(on_grid(p, tick) for p in bids[:3] + asks[:3])


def test_spreads_are_the_quoted_spread_most_of_the_time(two_minutes):
    _, events = two_minutes
    quoted = {s.symbol: s.spread_ticks for s in DEFAULT_SIM_SYMBOLS}
    by_symbol = defaultdict(list)
    for book in (e for e in events if isinstance(e, BookSnapshot)):
        by_symbol[book.symbol].append(round(book.spread / TICKS[book.symbol]))
    for symbol, spreads in by_symbol.items():
        regime_width = [quoted[symbol], 2 * quoted[symbol]]  # calm/trending, volatile
        share = np.isin(spreads, regime_width).mean()
        assert share > 0.8, (symbol, share)


def test_trades_print_at_the_touches_of_one_uncrossed_book(two_minutes):
    """Within a step buys lift asks and sells hit bids of the same book, so every sell prints
    below every buy, and all prints lie on the tick grid."""
    sim, events = two_minutes
    steps: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: {"buy": [], "sell": []})
    for t in (e for e in events if isinstance(e, Trade)):
        assert on_grid(t.price, TICKS[t.symbol])
        steps[(t.symbol, (t.ts_ms - sim.start_ms) // 100)][t.side].append(t.price)
    two_sided = [sides for sides in steps.values() if sides["buy"] and sides["sell"]]
    assert len(two_sided) > 100
    for sides in two_sided:
        assert max(sides["sell"]) < min(sides["buy"])


def test_one_second_candles_equal_the_trades_of_their_second(two_minutes):
    _, events = two_minutes
    trades = defaultdict(list)
    for t in (e for e in events if isinstance(e, Trade)):
        trades[(t.symbol, t.ts_ms // 1000 * 1000)].append(t)
    previous_close: dict[str, float] = {}
    flat = 0
    for c in (e for e in events if isinstance(e, Candle)):
        assert c.interval == "1s" and c.closed
        group = trades.get((c.symbol, c.open_time_ms), [])
        if group:
            assert (c.open, c.close) == (group[0].price, group[-1].price)
            assert c.high == max(t.price for t in group) and c.low == min(t.price for t in group)
            assert c.trades == len(group)
            assert math.isclose(c.volume, sum(t.qty for t in group), rel_tol=1e-9)
            assert math.isclose(c.quote_volume, sum(t.price * t.qty for t in group), rel_tol=1e-9)
            buys = sum(t.qty for t in group if t.side == "buy")
            assert math.isclose(c.taker_buy_volume, buys, rel_tol=1e-9, abs_tol=1e-12)
        else:
            flat += 1
            assert c.open == c.high == c.low == c.close == previous_close.get(c.symbol, c.close)
            assert c.volume == 0 and c.trades == 0
        previous_close[c.symbol] = c.close
    assert flat > 0  # quiet crosses have empty seconds


def test_sweeps_walk_the_book_away_from_the_touch(two_minutes):
    """Fills in one millisecond on one side walk away from the touch: buys up, sells down."""
    _, events = two_minutes
    groups = defaultdict(list)
    for t in (e for e in events if isinstance(e, Trade)):
        groups[(t.symbol, t.ts_ms, t.side)].append(t.price)
    walked = 0
    for (_, _, side), prices in groups.items():
        steps = np.diff(prices) * (1 if side == "buy" else -1)
        assert (steps >= 0).all(), prices
        walked += len(prices) > 2 and bool((steps > 0).any())
    assert walked > 20


def trade_counts(start_ms: int) -> dict[str, int]:
    sim = MarketSimulator(["BTCUSD", "EURUSD"], seed=1, clock_start_ms=start_ms,
                          params=SimParams(book_every_steps=0))
    counts: dict[str, int] = defaultdict(int)
    for e in sim.steps(600):
        if isinstance(e, Trade):
            counts[e.symbol] += 1
    return counts


def test_fx_is_quiet_at_the_weekend_while_crypto_trades():
    weekend, weekday = trade_counts(SATURDAY_MS), trade_counts(WEDNESDAY_MS)
    assert weekend["BTCUSD"] > 50
    assert weekend["EURUSD"] * 5 < weekday["EURUSD"]
    assert weekend["EURUSD"] * 5 < weekend["BTCUSD"]


# ---------------------------------------------------------------------------- the book on its own


def make_book() -> SimBook:
    book = SimBook(BookShape(), RandomPool(np.random.default_rng(1)), tick_size=0.01, qty_step=0.00001,
                   gap_mean_ticks=40, size_scale=1.0)
    book.usd_to_qty = 1 / 60_000
    book.reanchor(6_000_000.6, 1)  # fair 60,000.006: best bid 60,000.00, ask 60,000.01
    return book


def test_reanchor_quotes_the_spread_around_the_fair_price():
    book = make_book()
    assert (book.best_bid_ticks, book.best_ask_ticks) == (6_000_000, 6_000_001)
    snapshot = book.snapshot("BTCUSD", 1, 1)
    assert snapshot.bids[0][0] == 60_000.0 and snapshot.asks[0][0] == 60_000.01


def test_a_small_buy_depletes_the_ask_touch_and_a_sweep_clears_it():
    book = make_book()
    touch = book.asks.qtys[0]
    price = book.take(True, touch / 4, sweep=False)
    assert price == 60_000.01
    assert book.asks.qtys[0] == pytest.approx(touch * 3 / 4, abs=2e-5)
    second_level = book.asks.prices[1]
    book.take(True, 0.0001, sweep=True)
    assert book.best_ask_ticks == second_level
    assert len(book.asks.prices) == 20


def test_the_hit_side_refills_its_touch_after_the_trades():
    book = make_book()
    book.take(False, 1e6, sweep=False)  # bigger than the bid touch: level cleared
    assert book.best_bid_ticks < 6_000_000
    refilled = 0
    for seed in range(20):
        book = make_book()
        book._pool = RandomPool(np.random.default_rng(seed))
        book.take(False, 1e6, sweep=False)
        book.refill_after_trades()
        refilled += book.best_bid_ticks == 6_000_000
    assert 12 <= refilled <= 20  # refill probability 0.9


def test_moving_the_fair_price_pulls_crossed_quotes():
    book = make_book()
    book.reanchor(6_000_500.6, 1)  # +$5
    assert book.best_ask_ticks == 6_000_501 and book.best_bid_ticks == 6_000_500
    assert book.bids.prices == sorted(book.bids.prices) and book.asks.prices == sorted(book.asks.prices)


# ---------------------------------------------------------------------------- the book vs real depth20

REAL_DEPTH = "derived_depth20_100ms_BTCUSDT_20240808T2354-20240809T0005.txt.gz"


def book_shape(books: list[tuple[list[tuple[float, float]], list[tuple[float, float]]]]) -> dict[str, float]:
    one_tick = [round((asks[0][0] - bids[0][0]) * 100) == 1 for bids, asks in books]
    touch = [bids[0][0] * bids[0][1] for bids, _ in books] + [asks[0][0] * asks[0][1] for _, asks in books]
    span = [(asks[-1][0] - bids[-1][0]) / ((asks[0][0] + bids[0][0]) / 2) * 1e4 for bids, asks in books]
    return {"one_tick": float(np.mean(one_tick)), "touch": float(np.median(touch)), "span": float(np.median(span))}


def test_btc_book_has_the_shape_of_the_real_depth20_stream():
    real_books = []
    with gzip.open(BINANCE_DATA / "depth" / REAL_DEPTH, "rt") as f:
        for i, line in enumerate(f):
            if i % 5 == 0:
                data = json.loads(line.split(" ", 1)[1])["data"]
                real_books.append(([(float(p), float(q)) for p, q in data["bids"]],
                                   [(float(p), float(q)) for p, q in data["asks"]]))
    sim = MarketSimulator(["BTCUSD"], seed=5, clock_start_ms=WEDNESDAY_MS,
                          params=SimParams(fixed_regime=Regime.TRENDING))
    sim_books = [(list(e.bids), list(e.asks)) for e in sim.steps(3000) if isinstance(e, BookSnapshot)]
    real, simulated = book_shape(real_books), book_shape(sim_books)
    assert real["one_tick"] > 0.95 and simulated["one_tick"] >= 0.9
    for key in ("touch", "span"):
        assert 0.5 <= simulated[key] / real[key] <= 2.0, (key, simulated[key], real[key])
