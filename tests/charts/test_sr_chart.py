"""S/R chart: real BTC/XRP candles, zones at the data's extremes, an ATR-based plan."""

import re
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from charts.sr import build_sr_figure, render_sr_chart
from core.models import CandleArrays, Zone, ZoneKind
from tests.charts.chart_inputs import BTC_1H, XRP_5M, load_klines, long_plan, zones_around
from tests.charts.figure_text import png_size, texts

BTC = load_klines(BTC_1H, "BTCUSDT", "1h")
TAG = re.compile(r"^(Entry|Stop|T[123]) ([\d,.]+)$")


def number(text: str) -> float:
    return float(text.replace(",", ""))


def candle_bodies(figure) -> int:
    axes = figure.axes[0]
    return sum(len(c.get_paths()) for c in axes.collections if isinstance(c, PolyCollection))


def test_full_chart_is_a_phone_sized_png() -> None:
    png = render_sr_chart(BTC, zones_around(BTC), price=float(BTC.close[-1]), plan=long_plan(BTC),
                          title="BTCUSD support / resistance", source_label="SIMULATED")
    assert png_size(png) == (1080, 660)


def test_zone_labels_show_kind_score_and_touches() -> None:
    found = texts(build_sr_figure(BTC, zones_around(BTC), price=float(BTC.close[-1]), title="t"))
    for label in ("S 82 \u00b7 4x", "S 55 \u00b7 3x", "R 91 \u00b7 5x"):
        assert label in found


def test_zones_far_outside_the_window_get_an_arrow_with_their_price() -> None:
    zones = zones_around(BTC)
    found = texts(build_sr_figure(BTC, zones, price=float(BTC.close[-1]), title="t"))
    above = [t for t in found if t.startswith("\u25b2 R 60 \u00b7 2x at ")]
    below = [t for t in found if t.startswith("\u25bc S 77 \u00b7 6x at ")]
    assert len(above) == 1 and len(below) == 1
    assert number(above[0].split(" at ")[1]) == pytest.approx(zones[3].mid, abs=1.0)
    assert number(below[0].split(" at ")[1]) == pytest.approx(zones[4].mid, abs=1.0)


def test_far_zones_do_not_squash_the_candles() -> None:
    figure = build_sr_figure(BTC, zones_around(BTC), price=float(BTC.close[-1]), title="t")
    low, high = figure.axes[0].get_ylim()
    view = BTC.tail(120)
    candle_span = float(view.high.max() - view.low.min())
    assert low <= view.low.min() and high >= view.high.max()
    assert high - low < 1.5 * candle_span


def plan_tags(found: list[str]) -> dict[str, float]:
    """{"Entry": 70930.0, "T1": ...} from the price-scale tags."""
    return {m[1]: number(m[2]) for t in found if (m := TAG.match(t))}


def test_plan_levels_are_inside_the_window_and_tagged() -> None:
    plan = long_plan(BTC)
    figure = build_sr_figure(BTC, [], price=float(BTC.close[-1]), plan=plan, title="t")
    low, high = figure.axes[0].get_ylim()
    for level in (plan.entry, plan.stop, *plan.targets):
        assert low < level < high
    tags = plan_tags(texts(figure))
    assert tags == pytest.approx({"Entry": plan.entry, "Stop": plan.stop, "T1": plan.targets[0],
                                  "T2": plan.targets[1], "T3": plan.targets[2]}, abs=0.51)


def test_price_tag_only_when_it_differs_from_the_entry() -> None:
    plan = long_plan(BTC)
    at_entry = texts(build_sr_figure(BTC, [], price=plan.entry, plan=plan, title="t"))
    assert f"{plan.entry:,.0f}" not in at_entry  # the Entry tag already shows it
    moved = plan.entry + 150.0
    assert f"{moved:,.0f}" in texts(build_sr_figure(BTC, [], price=moved, plan=plan, title="t"))
    assert f"{plan.entry:,.0f}" in texts(build_sr_figure(BTC, [], price=plan.entry, title="t"))


def test_header_names_symbol_timeframe_close_time_and_plan() -> None:
    close_ms = int(BTC.open_time_ms[-1]) + 3_600_000
    expected_time = datetime.fromtimestamp(close_ms / 1000, tz=UTC).strftime("%d %b %Y %H:%M UTC")
    found = texts(build_sr_figure(BTC, [], price=float(BTC.close[-1]), plan=long_plan(BTC), title="My title",
                                  subtitle="zones 1h/4h"))
    assert "My title" in found
    info = next(t for t in found if t.startswith("BTCUSDT"))
    assert info == f"BTCUSDT \u00b7 1h \u00b7 {expected_time} \u00b7 LONG \u00b7 R:R 2.0 \u00b7 zones 1h/4h"


def test_no_zones_and_no_plan() -> None:
    figure = build_sr_figure(BTC, [], price=float(BTC.close[-1]), title="t")
    found = texts(figure)
    assert not plan_tags(found)
    assert not any("\u00b7 " in t and t[0] in "SR" for t in found)
    assert candle_bodies(figure) == 120


def test_max_candles_limits_what_is_drawn() -> None:
    assert candle_bodies(build_sr_figure(BTC, [], price=float(BTC.close[-1]), title="t", max_candles=50)) == 50
    with pytest.raises(ValueError):
        render_sr_chart(BTC, [], price=1.0, title="t", max_candles=0)


def test_single_candle_is_labelled_with_its_time() -> None:
    one = BTC.tail(1)
    figure = build_sr_figure(one, [], price=float(one.close[0]), title="t")
    assert candle_bodies(figure) == 1
    hour = datetime.fromtimestamp(int(one.open_time_ms[0]) / 1000, tz=UTC).strftime("%H:%M")
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == [hour]
    assert png_size(render_sr_chart(one, [], price=float(one.close[0]), title="t")) == (1080, 660)


def test_no_candles_still_renders_zones_and_price() -> None:
    empty = BTC.tail(120).until(0)
    assert len(empty) == 0
    zones = [Zone(70_000.0, 70_400.0, ZoneKind.SUPPORT, 3, ("4h",), 61.0)]
    figure = build_sr_figure(empty, zones, price=71_000.0, title="t")
    found = texts(figure)
    assert "no candles" in found and "S 61 \u00b7 3x" in found
    low, high = figure.axes[0].get_ylim()
    assert low < 70_400.0 and high > 71_000.0  # at least part of the band shows


def test_nan_inputs_leave_no_nan_in_the_chart() -> None:
    view = BTC.tail(30)
    high = view.high.copy()
    high[5] = np.nan
    broken = CandleArrays(view.symbol, view.interval, view.open_time_ms, view.open, high, view.low, view.close,
                          view.volume)
    zones = [*zones_around(view), Zone(float("nan"), float("nan"), ZoneKind.RESISTANCE, 1, (), 10.0)]
    plan = replace(long_plan(view), targets=(float(view.close[-1]) * 1.01, float("nan")))
    figure = build_sr_figure(broken, zones, price=float("nan"), plan=plan, title="t")
    assert np.isfinite(figure.axes[0].get_ylim()).all()
    assert candle_bodies(figure) == 29
    assert not [t for t in texts(figure) if "nan" in t.lower()]


def test_source_badge_and_watermark_only_when_not_live() -> None:
    price = float(BTC.close[-1])
    replay = texts(build_sr_figure(BTC, [], price=price, title="t", source_label="REPLAY"))
    assert replay.count("REPLAY") == 2  # badge + watermark
    live = texts(build_sr_figure(BTC, [], price=price, title="t"))
    assert "\u25cf LIVE" in live and "REPLAY" not in live and "SIMULATED" not in live


def test_low_priced_symbol_gets_enough_decimals() -> None:
    xrp = load_klines(XRP_5M, "XRPUSDT", "5m")
    plan = long_plan(xrp, "XRPUSD")
    tags = plan_tags(texts(build_sr_figure(xrp, zones_around(xrp), price=float(xrp.close[-1]), plan=plan,
                                           title="t")))
    assert set(tags) == {"Entry", "Stop", "T1", "T2", "T3"}
    assert tags["Entry"] == pytest.approx(plan.entry, abs=0.0001)
    assert tags["Stop"] == pytest.approx(plan.stop, abs=0.0001)
