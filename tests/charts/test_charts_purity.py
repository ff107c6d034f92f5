"""Charts never import pyplot and leave matplotlib's global settings alone."""

import subprocess
import sys

import matplotlib

from charts.depth import render_depth_chart
from charts.equity import render_equity_chart
from charts.sr import render_sr_chart
from tests.charts.chart_inputs import BTC_1H, load_book, load_klines
from tests.paths import REPO

SCRIPT = """
import sys
import charts.depth, charts.equity, charts.labels, charts.sr, charts.style, charts.time_axis
from core.models import BookSnapshot
charts.depth.render_depth_chart(BookSnapshot("X", 0, 0, ((1.0, 2.0),), ((1.1, 1.0),)), title="t")
charts.equity.render_equity_chart([(0, 1.0), (60_000, 2.0)], title="t")
print("pyplot" if "matplotlib.pyplot" in sys.modules else "clean")
"""


def test_pyplot_is_never_imported() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "clean"


def test_rendering_leaves_rc_params_unchanged() -> None:
    before = dict(matplotlib.rcParams)
    btc = load_klines(BTC_1H, "BTCUSDT", "1h")
    render_sr_chart(btc, [], price=float(btc.close[-1]), title="t", source_label="SIMULATED")
    render_depth_chart(load_book(), title="t")
    render_equity_chart([(0, 1.0), (60_000, 2.0)], title="t")
    assert dict(matplotlib.rcParams) == before
