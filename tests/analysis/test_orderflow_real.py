"""Order flow on the real aggTrade and depth20 recordings, checked against direct loops."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from core.analysis.orderflow import (
    OrderFlowParams,
    Pressure,
    VolumeSpike,
    WhaleTrade,
    book_imbalance,
    liquidity_voids,
    order_flow_verdict,
    pressure,
    summarize_order_flow,
    volume_spikes,
    whale_counts,
    whale_trades,
)
from core.models import CandleArrays, Side
from tests.analysis import realdata

RECORDINGS = (
    ("derived", realdata.BTC_AGG_2024),
    ("derived", realdata.ETH_AGG_2024),
    ("ws", realdata.BTC_WS_AGG_2021),
)
DEFAULT_TIERS = (50_000.0, 100_000.0, 500_000.0, 1_000_000.0)
LOW_TIERS = (2_000.0, 10_000.0, 30_000.0, 100_000.0)  # so every tier is populated in short recordings


def rows_of(kind: str, name: str):
    return realdata.derived_aggtrade_rows(name) if kind == "derived" else realdata.ws_aggtrade_rows(name)


def reference_orders(rows, merge: bool) -> list[tuple[int, int, float]]:
    """(ts_ms, side, notional) per order: consecutive same-ms same-side rows merged when asked."""
    orders: list[list] = []
    for ts, price, qty, side in rows:
        if merge and orders and orders[-1][0] == ts and orders[-1][1] == side:
            orders[-1][2] += price * qty
        else:
            orders.append([ts, side, price * qty])
    return [tuple(o) for o in orders]


def reference_tier(notional: float, tiers: tuple[float, ...]) -> str | None:
    if notional >= tiers[3]:
        return "whale"
    if notional >= tiers[2]:
        return "large"
    if notional >= tiers[1]:
        return "medium"
    if notional >= tiers[0]:
        return "small"
    return None


@pytest.mark.parametrize("kind,name", RECORDINGS)
@pytest.mark.parametrize("tiers", [DEFAULT_TIERS, LOW_TIERS])
@pytest.mark.parametrize("merge", [True, False])
def test_whale_counts_per_tier_equal_an_independent_count(kind, name, tiers, merge):
    rows = rows_of(kind, name)
    whales = whale_trades(realdata.columns(rows), OrderFlowParams(tiers_usd=tiers, whale_merge_same_ms=merge))
    expected: dict[str, list[float]] = {"small": [], "medium": [], "large": [], "whale": []}
    for _ts, _side, notional in reference_orders(rows, merge):
        tier = reference_tier(notional, tiers)
        if tier:
            expected[tier].append(notional)
    assert dict(whale_counts(whales)) == {tier: len(v) for tier, v in expected.items()}
    for tier, notionals in expected.items():
        got = [w.notional for w in whales if w.tier == tier]
        assert sum(got) == pytest.approx(sum(notionals), rel=1e-9)
    assert [w.ts_ms for w in whales] == sorted((w.ts_ms for w in whales), reverse=True)
    if tiers == LOW_TIERS:
        assert sum(1 for v in expected.values() if v) >= 3  # the check is not vacuous


def test_merging_turns_a_sweep_into_one_bigger_order():
    rows = realdata.derived_aggtrade_rows(realdata.BTC_AGG_2024)
    columns = realdata.columns(rows)
    merged = whale_trades(columns, OrderFlowParams(whale_merge_same_ms=True))
    single = whale_trades(columns, OrderFlowParams(whale_merge_same_ms=False))
    assert len(merged) > len(single)  # fills below $50k add up to whale orders
    biggest = max(merged, key=lambda w: w.notional)
    same_ms = [r for r in rows if r[0] == biggest.ts_ms and (r[3] > 0) == (biggest.side is Side.BUY)]
    assert biggest.qty == pytest.approx(sum(r[2] for r in same_ms), rel=1e-12)
    assert min(r[1] for r in same_ms) <= biggest.price <= max(r[1] for r in same_ms)


@pytest.mark.parametrize("kind,name", RECORDINGS)
@pytest.mark.parametrize("window_s", [1.0, 30.0, 120.0])
def test_pressure_equals_a_direct_sum_over_the_window(kind, name, window_s):
    rows = rows_of(kind, name)
    columns = realdata.columns(rows)
    first, last = rows[0][0], rows[-1][0]
    for now in np.linspace(first, last + 1000, 25).astype(np.int64).tolist():
        inside = [r for r in rows if now - window_s * 1000 < r[0] <= now]
        got = pressure(columns, now, window_s)
        buys = [r for r in inside if r[3] > 0]
        sells = [r for r in inside if r[3] < 0]
        assert got.trade_count == len(inside)
        assert got.buy_qty == pytest.approx(sum(r[2] for r in buys), rel=1e-9, abs=1e-12)
        assert got.sell_qty == pytest.approx(sum(r[2] for r in sells), rel=1e-9, abs=1e-12)
        buy_notional = sum(r[1] * r[2] for r in buys)
        sell_notional = sum(r[1] * r[2] for r in sells)
        assert got.buy_notional == pytest.approx(buy_notional, rel=1e-9, abs=1e-9)
        assert got.delta_notional == pytest.approx(buy_notional - sell_notional, rel=1e-9, abs=1e-6)
        total = buy_notional + sell_notional
        assert got.buy_ratio == pytest.approx(buy_notional / total if total else 0.5, rel=1e-9)


@pytest.fixture(scope="module")
def books():
    return realdata.depth_books(realdata.BTC_DEPTH_2024)[::50]


@pytest.mark.parametrize("levels", [5, 10, 20])
def test_book_imbalance_equals_a_direct_sum(books, levels):
    for book in books:
        bids = sum(q for _, q in book.bids[:levels])
        asks = sum(q for _, q in book.asks[:levels])
        assert book_imbalance(book, levels) == pytest.approx((bids - asks) / (bids + asks), rel=1e-12)


@pytest.mark.parametrize("multiple", [3.0, 5.0])
def test_liquidity_voids_equal_a_brute_force_scan(books, multiple):
    found_any = False
    for book in books:
        expected = []
        for side, levels in (("bid", book.bids), ("ask", book.asks)):
            prices = [p for p, _ in levels]
            average = abs(prices[-1] - prices[0]) / (len(prices) - 1)
            for a, b in zip(prices, prices[1:], strict=False):
                if abs(b - a) >= multiple * average:
                    expected.append((side, min(a, b), max(a, b)))
        got = [(v.side, v.low, v.high) for v in liquidity_voids(book, multiple)]
        assert got == expected
        found_any = found_any or bool(got)
    assert found_any


def test_void_minimum_size_in_bps_filters_small_gaps(books):
    for book in books:
        for void in liquidity_voids(book, 3.0, min_bps=0.5):
            assert void.gap / book.mid * 1e4 >= 0.5


def head(candles: CandleArrays, n: int) -> CandleArrays:
    return CandleArrays(candles.symbol, candles.interval, candles.open_time_ms[:n], candles.open[:n],
                        candles.high[:n], candles.low[:n], candles.close[:n], candles.volume[:n])


def test_volume_spikes_use_the_trailing_window_z_score():
    seconds = realdata.klines(realdata.BTC_1S_2024)
    found = 0
    for end in range(100, len(seconds), 7):
        window = head(seconds, end)
        spikes = volume_spikes(window, window=60, zscore_min=3.0, recent=1)
        volumes = window.volume.tolist()
        trailing = volumes[-61:-1]
        sd = statistics.pstdev(trailing)
        z = (volumes[-1] - statistics.fmean(trailing)) / sd if sd else 0.0
        assert [round(s.zscore, 9) for s in spikes] == ([round(z, 9)] if z >= 3.0 else [])
        found += bool(spikes)
    assert found >= 3


def test_summary_lists_only_whales_inside_the_window_before_now():
    rows = realdata.derived_aggtrade_rows(realdata.BTC_AGG_2024)
    columns = realdata.columns(rows)
    now = rows[len(rows) // 2][0]
    params = OrderFlowParams(whale_window_s=120.0)
    summary = summarize_order_flow(columns, None, now, params=params)
    assert summary.whales and all(now - 120_000 < w.ts_ms <= now for w in summary.whales)
    window_rows = [r for r in rows if now - 120_000 < r[0] <= now]
    expected = sum(1 for _, _, n in reference_orders(window_rows, True) if n >= 50_000)
    assert len(summary.whales) == expected == sum(count for _, count in summary.whale_counts)
    assert summary.pressure == pressure(columns, now, 30.0)


def whale(side: Side, notional: float) -> WhaleTrade:
    return WhaleTrade(1, side, 100.0, notional / 100.0, notional, "small")


def test_verdict_weighs_the_readings_and_explains_them():
    buying = Pressure(30.0, 10.0, 2.0, 1_000_000.0, 200_000.0, 50)
    bullish = order_flow_verdict(0.4, buying, (whale(Side.BUY, 2e6),), (VolumeSpike("1s", 0, 5.0, 4.0, 1),))
    assert bullish.bias == "bullish"
    expected = 0.25 * 0.4 + 0.40 * (2 * (1_000_000 / 1_200_000) - 1) + 0.25 * 1.0 + 0.10 * 1.0
    assert bullish.score == pytest.approx(expected, abs=1e-4)
    assert bullish.strength == pytest.approx(100 * expected, abs=0.1) and len(bullish.reasons) == 4
    selling = Pressure(30.0, 2.0, 10.0, 200_000.0, 1_000_000.0, 50)
    bearish = order_flow_verdict(-0.4, selling, (whale(Side.SELL, 2e6),), ())
    assert bearish.bias == "bearish" and bearish.sign == -1
    balanced = Pressure(30.0, 1.0, 1.0, 450_000.0, 550_000.0, 20)
    mixed = order_flow_verdict(0.3, balanced, (whale(Side.BUY, 1e6), whale(Side.SELL, 1e6)), ())
    assert mixed.bias == "neutral"
    nothing = order_flow_verdict(None, Pressure(30.0, 0, 0, 0, 0, 0), (), ())
    assert (nothing.bias, nothing.strength, nothing.reasons) == ("neutral", 0.0, ())
