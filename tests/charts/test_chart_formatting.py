"""Number formats, label spreading and UTC time ticks used by every chart."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charts.labels import (
    format_pct,
    format_price,
    format_usd_compact,
    place_near,
    price_decimals,
    spread_positions,
)
from charts.time_axis import time_ticks, utc_text


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(("step", "decimals"), [
    (1000.0, 0), (50.0, 0), (1.0, 0), (0.5, 1), (0.1, 1), (0.05, 2), (0.01, 2), (0.0001, 4), (0.0, 2),
    (float("nan"), 2),
])
def test_price_decimals(step: float, decimals: int) -> None:
    assert price_decimals(step) == decimals


@pytest.mark.parametrize(("value", "text"), [
    (950.0, "$950"), (12_345.0, "$12.3k"), (20_000.0, "$20k"), (1_250_000.0, "$1.25M"), (444_123.0, "$444k"),
    (2_100_000_000.0, "$2.1B"), (-40_000.0, "-$40k"), (0.0, "$0"),
])
def test_format_usd_compact(value: float, text: str) -> None:
    assert format_usd_compact(value) == text


def test_format_price_and_pct() -> None:
    assert format_price(71234.5, 1) == "71,234.5"
    assert format_price(1.07126, 4) == "1.0713"
    assert format_pct(12.34) == "+12.3%"
    assert format_pct(-4.56) == "\u22124.6%"
    assert format_pct(-0.01) == "0.0%"


@pytest.mark.parametrize(("wanted", "gap", "expected"), [
    ([0.2, 0.6], 0.1, [0.2, 0.6]),                    # apart already: untouched
    ([0.5, 0.5], 0.1, [0.45, 0.55]),                  # a tie splits around its centre
    ([0.6, 0.5], 0.2, [0.65, 0.45]),                  # input order kept
    ([0.99, 0.98], 0.1, [0.95, 0.85]),                # pushed down inside the top bound (0.95)
    ([0.5, 0.5, 0.5], 0.5, [0.05, 0.5, 0.95]),        # cannot fit: spaced evenly over [low, high]
])
def test_spread_positions_table(wanted: list[float], gap: float, expected: list[float]) -> None:
    assert spread_positions(wanted, gap, 0.05, 0.95) == pytest.approx(expected)


@given(st.lists(st.floats(0.0, 1.0), max_size=12), st.floats(0.01, 0.08))
def test_spread_positions_keeps_gaps_and_bounds(wanted: list[float], gap: float) -> None:
    placed = spread_positions(wanted, gap, 0.0, 1.0)
    assert len(placed) == len(wanted)
    ordered = sorted(placed)
    assert all(0.0 - 1e-9 <= y <= 1.0 + 1e-9 for y in placed)
    assert all(b - a >= gap - 1e-9 for a, b in zip(ordered, ordered[1:], strict=False))
    # relative order of distinct wishes survives
    for i in range(len(wanted)):
        for j in range(len(wanted)):
            if wanted[i] < wanted[j]:
                assert placed[i] <= placed[j] + 1e-9


def test_place_near_drops_labels_that_would_drift() -> None:
    # priority order: the first keeps its spot, the second moves a little, the third cannot fit nearby
    assert place_near([0.5, 0.55, 0.52], 0.1, 0.0, 1.0, max_shift=0.06) == pytest.approx([0.5, 0.6, None])
    assert place_near([1.2], 0.1, 0.0, 0.95, max_shift=0.0) == [0.95]  # clamped into bounds
    assert place_near([], 0.1, 0.0, 1.0, max_shift=0.1) == []


@given(st.lists(st.floats(0.0, 1.0), max_size=15), st.floats(0.02, 0.1))
def test_place_near_never_overlaps_or_drifts(wanted: list[float], gap: float) -> None:
    placed = place_near(wanted, gap, 0.0, 1.0, max_shift=gap)
    kept = sorted(y for y in placed if y is not None)
    assert all(b - a >= gap - 1e-9 for a, b in zip(kept, kept[1:], strict=False))
    assert all(abs(y - w) <= gap + 1e-9 for y, w in zip(placed, wanted, strict=True) if y is not None)
    assert wanted == [] or placed[0] == pytest.approx(wanted[0])


def test_daily_ticks_over_five_days_of_hourly_candles() -> None:
    ticks = time_ticks(ms(2026, 4, 8, 12), ms(2026, 4, 13, 11), max_ticks=6)
    assert ticks == [(ms(2026, 4, day), f"{day:02d} Apr") for day in range(9, 14)]


def test_intraday_ticks_label_midnight_with_the_date() -> None:
    ticks = time_ticks(ms(2024, 8, 8, 21, 10), ms(2024, 8, 9, 2, 50), max_ticks=4)
    assert ticks == [(ms(2024, 8, 8, 22), "22:00"), (ms(2024, 8, 9, 0), "09 Aug"), (ms(2024, 8, 9, 2), "02:00")]


def test_month_ticks_for_a_long_span() -> None:
    ticks = time_ticks(ms(2024, 1, 1), ms(2026, 4, 27), max_ticks=6)
    assert [label for _, label in ticks] == ["Jan 2024", "Jul 2024", "Jan 2025", "Jul 2025", "Jan 2026"]
    assert ticks[1][0] == ms(2024, 7, 1)


def test_ticks_for_a_single_moment_and_reversed_bounds() -> None:
    assert time_ticks(ms(2026, 4, 13, 11), ms(2026, 4, 13, 11)) == [(ms(2026, 4, 13, 11), "11:00")]
    assert time_ticks(ms(2026, 4, 13), ms(2026, 4, 8)) == time_ticks(ms(2026, 4, 8), ms(2026, 4, 13))


def test_utc_text() -> None:
    assert utc_text(ms(2024, 8, 8, 23, 54)) == "08 Aug 2024 23:54 UTC"
