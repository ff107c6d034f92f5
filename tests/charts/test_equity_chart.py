"""Equity chart: header numbers, drawdown panel and the small edge cases."""

import numpy as np
import pytest

from charts.equity import build_equity_figure, render_equity_chart
from tests.charts.chart_inputs import BTC_1H, load_klines
from tests.charts.figure_text import png_size, texts

HOUR_MS = 3_600_000
T0 = 1_773_446_400_000  # 14 Mar 2026 00:00 UTC


def info_line(found: list[str]) -> str:
    return next(t for t in found if "max DD" in t)


def test_real_series_renders_with_the_drawdown_panel() -> None:
    btc = load_klines(BTC_1H, "BTCUSDT", "1h")
    equity = 10_000.0 * (1.0 + 0.5 * (btc.close / btc.close[0] - 1.0))
    points = list(zip(btc.open_time_ms.tolist(), equity.tolist(), strict=True))
    png = render_equity_chart(points, title="Paper equity", source_label="PAPER")
    assert png_size(png) == (1080, 660)
    figure = build_equity_figure(points, title="Paper equity")
    assert len(figure.axes) == 2
    deepest = float(np.min(equity / np.maximum.accumulate(equity) - 1.0) * 100.0)
    assert f"max DD \u2212{abs(deepest):.1f}%" in info_line(texts(figure))


def test_header_change_and_max_drawdown() -> None:
    points = [(T0, 100.0), (T0 + HOUR_MS, 120.0), (T0 + 2 * HOUR_MS, 90.0), (T0 + 3 * HOUR_MS, 110.0)]
    found = texts(build_equity_figure(points, title="t"))
    assert info_line(found) == "14 Mar 2026 \u00b7 100.00 \u2192 110.00 (+10.0%) \u00b7 max DD \u221225.0%"
    assert "max \u221225.0%" in found  # the marker on the drawdown panel
    assert "110.00" in found  # the last-value tag


def test_unsorted_and_non_finite_points() -> None:
    points = [(T0 + 2 * HOUR_MS, 110.0), (T0, 100.0), (T0 + HOUR_MS, float("nan")), (T0 + 3 * HOUR_MS, float("inf"))]
    found = texts(build_equity_figure(points, title="t"))
    assert "100.00 \u2192 110.00 (+10.0%)" in info_line(found)
    assert not [t for t in found if "nan" in t.lower() or "inf" in t.lower()]


def test_one_point() -> None:
    figure = build_equity_figure([(T0, 5_000.0)], title="t")
    assert info_line(texts(figure)) == "14 Mar 2026 \u00b7 5,000.00 \u2192 5,000.00 (0.0%) \u00b7 max DD 0.0%"
    low, high = figure.axes[0].get_xlim()
    assert low < T0 < high
    assert png_size(render_equity_chart([(T0, 5_000.0)], title="t")) == (1080, 660)


def test_no_points() -> None:
    assert "no equity points yet" in texts(build_equity_figure([], title="t"))
    assert png_size(render_equity_chart([], title="t")) == (1080, 660)


def test_without_drawdown_panel_and_without_badge() -> None:
    figure = build_equity_figure([(T0, 1.0), (T0 + HOUR_MS, 2.0)], title="t", drawdown=False)
    assert len(figure.axes) == 1
    found = texts(figure)
    assert not any("LIVE" in t for t in found)


@pytest.mark.parametrize("equity", [[0.0, 0.0], [-5.0, -3.0]])
def test_zero_or_negative_equity_is_drawn_without_nan(equity: list[float]) -> None:
    points = [(T0 + i * HOUR_MS, value) for i, value in enumerate(equity)]
    assert not [t for t in texts(build_equity_figure(points, title="t")) if "nan" in t.lower()]
