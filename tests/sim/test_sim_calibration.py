"""The simulated BTCUSD market against the real Binance BTCUSDT recording.

Real statistics are computed here from the shared files; the simulated ones from one simulated
hour under the recording's conditions (see conftest). Tolerances and their reasons are in
docs/simulator.md ("Calibration targets and tolerances").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.feeds.sim_flow import TradeSizeModel
from tests.sim.realstats import hill_alpha, one_second_vol, poisson_upper_95, real_one_second_vol

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


@pytest.mark.parametrize("probability", QUANTILES)
def test_trade_size_quantiles_match_real_within_26_percent(btc_hour, real_btc, probability):
    simulated = btc_hour.stats().quantiles((probability,))[0]
    real = real_btc.quantiles((probability,))[0]
    assert abs(math.log10(simulated / real)) <= 0.1, (probability, simulated, real)


def test_extreme_size_quantile_within_a_factor_of_two(btc_hour, real_btc):
    simulated, real = btc_hour.stats().quantiles((0.999,))[0], real_btc.quantiles((0.999,))[0]
    assert abs(math.log10(simulated / real)) <= math.log10(2), (simulated, real)


def test_trade_rate_within_a_factor_of_one_and_a_half(btc_hour, real_btc):
    ratio = btc_hour.stats().rate_per_s / real_btc.rate_per_s
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_one_second_volatility_within_a_factor_of_one_and_a_half(btc_hour):
    simulated = one_second_vol([c.close for c in btc_hour.recorder.seconds])
    real = real_one_second_vol()
    assert 1 / 1.5 <= simulated / real <= 1.5, (simulated, real)


def test_aggressor_mix_is_about_even_like_the_real_tape(btc_hour, real_btc):
    simulated = btc_hour.stats().buy_share
    assert abs(simulated - 0.5) <= 0.05
    assert abs(simulated - real_btc.buy_share) <= 0.1


@pytest.mark.parametrize("tier_usd", [50_000, 100_000])
def test_whale_rate_per_hour_within_a_factor_of_two(btc_hour, real_btc, tier_usd):
    """Tiers the 11-minute recording holds enough of (69 and 19 trades): compare hourly rates."""
    assert real_btc.count_at_least(tier_usd) >= 10
    ratio = btc_hour.stats().rate_per_hour_at_least(tier_usd) / real_btc.rate_per_hour_at_least(tier_usd)
    assert 0.5 <= ratio <= 2.0, ratio


@pytest.mark.parametrize("tier_usd", [500_000, 1_000_000])
def test_giant_whales_occur_at_the_rate_the_real_tail_implies(btc_hour, real_btc, tier_usd):
    """The recording has no trade this big, so compare with its Pareto tail extrapolated from $100k
    (Hill exponent above $18.6k), and stay under the 95% bound its zero count allows."""
    alpha = hill_alpha(real_btc.notional_usd, TradeSizeModel().tail_start_usd)
    implied = real_btc.rate_per_hour_at_least(100_000) * (tier_usd / 100_000) ** -alpha
    simulated = btc_hour.stats().rate_per_hour_at_least(tier_usd)
    assert implied / 3 <= simulated <= implied * 3, (simulated, implied)
    upper = poisson_upper_95(real_btc.count_at_least(tier_usd)) / real_btc.span_s * 3600
    assert simulated <= upper * 1.5, (simulated, upper)


def test_trades_arrive_in_bursts_like_the_real_tape(btc_hour, real_btc):
    """Per-second counts: real BTCUSDT has a variance/mean ratio of ~74 and a median well under the mean."""
    seconds = np.bincount((np.array(btc_hour.recorder.trade_ts_ms) - btc_hour.simulator.start_ms) // 1000)
    dispersion = seconds.var() / seconds.mean()
    assert dispersion > 15
    assert np.median(seconds) < 0.75 * seconds.mean()


def test_size_model_tail_probabilities_match_the_real_tape(real_btc):
    """The fitted model itself (no simulation): P(size >= x) within 30% of the real frequency."""
    model = TradeSizeModel()
    for tier in (10_000, 25_000, 50_000):
        real = real_btc.count_at_least(tier) / len(real_btc.notional_usd)
        assert abs(model.tail_probability(tier) / real - 1) <= 0.3, tier
