"""Card helpers: compact money, zone distances, the nearest zones on each side of the price."""

import pytest

from core.analysis.inputs import TradeColumns
from core.analysis.levels import zone_kind
from core.analysis.orderflow import summarize_order_flow
from core.models import BookSnapshot, Zone
from handlers.cards import nearest_zones, render_flow_line, render_zone, usd, zone_distance


def zone(low: float, high: float, price: float, score: float = 50.0) -> Zone:
    return Zone(low, high, zone_kind(low, high, price), 3, ("1d", "4h"), score)


@pytest.mark.parametrize("amount, signed, text", [
    (950.4, False, "$950"), (52_093, False, "$52.1k"), (335_322, False, "$335k"), (1_970_493, False, "$1.97M"),
    (-1_635_171, True, "-$1.64M"), (22_333, True, "+$22.3k"), (-709, False, "-$709"),
])
def test_usd(amount, signed, text):
    assert usd(amount, signed=signed) == text


@pytest.mark.parametrize("low, high, price, text", [
    (101.0, 102.0, 100.0, "+1.00%"),     # resistance: to its low
    (97.0, 98.0, 100.0, "-2.00%"),       # support: to its high
    (99.0, 101.0, 100.0, "inside"),
    (99.0, 99.9999, 100.0, "at the edge"),
])
def test_zone_distance_is_to_the_nearest_edge(low, high, price, text):
    assert zone_distance(zone(low, high, price), price) == text


def test_the_card_shows_the_nearest_zones_not_the_strongest_far_away():
    price = 95_000.0
    far_strong = zone(22_000, 23_000, price, score=95)
    zones = (far_strong, zone(93_500, 94_400, price, 85), zone(91_800, 93_100, price, 57),
             zone(90_200, 91_600, price, 59), zone(95_500, 96_000, price, 40), zone(99_000, 99_500, price, 45),
             zone(101_000, 102_000, price, 70))
    resistances, supports = nearest_zones(zones, price, 2)
    assert [z.low for z in resistances] == [99_000, 95_500]  # highest first
    assert [z.low for z in supports] == [93_500, 91_800]
    assert far_strong not in supports
    assert render_zone(supports[0], 2, price).startswith("S 93,500.00–94,400.00 (-0.63%) · score 85 · 3 touches")


def test_a_missing_or_empty_book_is_no_book_data_not_a_zero_imbalance():
    trades = TradeColumns.from_arrays([1_000, 2_000], [100.0, 100.5], [1.0, 2.0], [1, -1])
    for book in (None, BookSnapshot("X", 2_000, 1, (), ())):
        flow = summarize_order_flow(trades, book, 2_000)
        assert flow.imbalance is None
        line = render_flow_line(flow, None)
        assert "no book data" in line and "imbalance" not in line
    book = BookSnapshot("X", 2_000, 1, ((100.0, 3.0),), ((100.5, 1.0),))
    assert "imbalance +0.50" in render_flow_line(summarize_order_flow(trades, book, 2_000), None)
