"""Depth chart from real recorded depth20 frames (BTC and ETH, 2024-08-08)."""

import random
import statistics

import pytest
from matplotlib.lines import Line2D
from matplotlib.text import Annotation

from charts.depth import build_depth_figure, render_depth_chart
from core.models import BookSnapshot
from tests.charts.chart_inputs import load_book
from tests.charts.figure_text import parse_usd, png_size, texts

BOOK = load_book("BTCUSDT", 0)


def wall_dots(figure) -> list[Line2D]:
    return [line for line in figure.axes[0].lines if line.get_marker() == "o"]


def wall_labels(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts if isinstance(t, Annotation)]


def default_walls(book: BookSnapshot) -> list[tuple[float, float]]:
    levels = [*book.bids, *book.asks]
    limit = 3 * statistics.median(qty for _, qty in levels)
    return [(price, qty) for price, qty in levels if qty > limit]


def test_renders_a_phone_sized_png() -> None:
    assert png_size(render_depth_chart(BOOK, title="BTCUSD depth")) == (1080, 660)


def test_side_totals_match_the_book_notional() -> None:
    found = texts(build_depth_figure(BOOK, title="t"))
    bids = next(t for t in found if t.startswith("Bids "))
    asks = next(t for t in found if t.startswith("Asks "))
    assert parse_usd(bids.split()[1]) == pytest.approx(sum(p * q for p, q in BOOK.bids), rel=0.01)
    assert parse_usd(asks.split()[1]) == pytest.approx(sum(p * q for p, q in BOOK.asks), rel=0.01)


def test_default_walls_are_levels_above_three_times_the_median() -> None:
    expected = default_walls(BOOK)
    assert 1 <= len(expected)
    figure = build_depth_figure(BOOK, title="t", max_wall_labels=50)
    dots = wall_dots(figure)
    assert sorted(float(d.get_xdata()[0]) for d in dots) == sorted(price for price, _ in expected)
    labels = sorted(parse_usd(t) for t in wall_labels(figure))
    assert labels == pytest.approx(sorted(p * q for p, q in expected), rel=0.01)


def test_only_the_largest_walls_are_labelled() -> None:
    expected = sorted((p * q for p, q in default_walls(BOOK)), reverse=True)
    figure = build_depth_figure(BOOK, title="t", max_wall_labels=2)
    assert len(wall_dots(figure)) == len(expected)
    assert sorted(parse_usd(t) for t in wall_labels(figure)) == pytest.approx(sorted(expected[:2]), rel=0.01)


def test_explicit_wall_threshold() -> None:
    expected = [price for price, qty in (*BOOK.bids, *BOOK.asks) if qty >= 1.0]
    figure = build_depth_figure(BOOK, title="t", wall_qty_threshold=1.0)
    assert sorted(float(d.get_xdata()[0]) for d in wall_dots(figure)) == sorted(expected)
    assert wall_dots(build_depth_figure(BOOK, title="t", wall_qty_threshold=1e9)) == []


def test_voids_inside_the_range_are_shaded_and_named() -> None:
    deepest_bid = BOOK.bids[-1][0]
    voids = [(deepest_bid + 1.0, deepest_bid + 2.5), (1.0, 2.0)]  # the second is far off the chart
    found = texts(build_depth_figure(BOOK, voids=voids, title="t"))
    assert found.count("void") == 1


def test_level_order_does_not_matter() -> None:
    shuffled_bids, shuffled_asks = list(BOOK.bids), list(BOOK.asks)
    random.Random(7).shuffle(shuffled_bids)
    random.Random(8).shuffle(shuffled_asks)
    shuffled = BookSnapshot(BOOK.symbol, BOOK.ts_ms, 1, tuple(shuffled_bids), tuple(shuffled_asks))
    assert sorted(texts(build_depth_figure(shuffled, title="t"))) == sorted(texts(build_depth_figure(BOOK, title="t")))


def test_one_sided_book() -> None:
    bids_only = BookSnapshot(BOOK.symbol, BOOK.ts_ms, 1, BOOK.bids, ())
    figure = build_depth_figure(bids_only, title="t")
    found = texts(figure)
    assert any(t.startswith("Bids ") for t in found) and not any(t.startswith("Asks ") for t in found)
    low, high = figure.axes[0].get_xlim()
    assert low < BOOK.bids[-1][0] and high > BOOK.bids[0][0]
    assert png_size(render_depth_chart(bids_only, title="t")) == (1080, 660)


def test_empty_book() -> None:
    empty = BookSnapshot("BTCUSDT", BOOK.ts_ms, 1, (), ())
    assert "order book is empty" in texts(build_depth_figure(empty, title="t"))
    assert png_size(render_depth_chart(empty, title="t")) == (1080, 660)


def test_header_has_symbol_levels_time_spread_and_badge() -> None:
    eth = load_book("ETHUSDT", 3000)
    found = texts(build_depth_figure(eth, title="ETHUSD depth", source_label="REPLAY"))
    info = next(t for t in found if t.startswith("ETHUSDT"))
    spread = eth.asks[0][0] - eth.bids[0][0]
    assert info.startswith("ETHUSDT \u00b7 20\u00d720 levels \u00b7 08 Aug 2024 23:")
    assert f"spread {spread:.2f}" in info
    assert found.count("REPLAY") == 2
    assert not [t for t in found if "nan" in t.lower()]
