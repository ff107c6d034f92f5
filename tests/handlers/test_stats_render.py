"""/stats text: the largest drawdown in money and in percent as two honest figures, and which market
data the trades came from."""

from __future__ import annotations

from core.stats import compute_stats
from handlers.journal import drawdown_text, render_stats, sources_text
from tests.stats.trade_factory import sequence


def test_two_dips_give_two_figures_each_with_its_own_other_measure():
    # 1000 -> 500 (-500, -50 %), then 10,000 -> 9,000 (-1,000, -10 %)
    stats = compute_stats(sequence([-500, 9_500, -1_000]), starting_equity=1000.0)
    text = drawdown_text(stats.drawdown)
    money, percent = text.split("; ")
    assert money.startswith("largest drawdown in money 1,000.00 (10.00% of its peak)")
    assert percent.startswith("largest in percent 50.00% (500.00,")
    assert "1,000.00 (50.00%" not in text  # never the money of one dip beside the percent of another


def test_one_dip_gives_one_figure():
    stats = compute_stats(sequence([200, -100, -150, 300]), starting_equity=1000.0)
    assert drawdown_text(stats.drawdown).startswith("max drawdown 250.00 (20.83% of its peak)")
    no_start = compute_stats(sequence([200, -100, -150, 300]))
    assert drawdown_text(no_start.drawdown).startswith("max drawdown 250.00,")


def test_stats_say_which_market_data_the_trades_came_from():
    assert sources_text(["LIVE", "LIVE"]) == ("", "")
    assert sources_text(["SIMULATED", "SIMULATED"]) == (" <b>[SIMULATED]</b>", "")
    badge, mix = sources_text(["SIMULATED", "LIVE", "SIMULATED"])
    assert badge == "" and mix == "⚠️ trades from different market data: 2 on SIMULATED, 1 on LIVE"
    stats = compute_stats(sequence([10, -5, 20]), starting_equity=1000.0)
    text = render_stats(stats, 7, ["REPLAY"] * 3)
    assert text.splitlines()[0] == "<b>Stats, last 7 days</b> <b>[REPLAY]</b>"
