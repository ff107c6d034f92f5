"""The nearest zones come from every qualifying zone, not from the ``sr.max_zones`` strongest.

On the USD-M BTCUSDT 1h history at 2025-03-11 06:00 UTC the 12 strongest zones put the nearest
support 7.9% below the price, while a 2-touch 4h/1h zone sits 0.36% below it. The card, the
protecting zone of the stop, the targets and the S/R score must all see that weak near zone.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis.engine import analyse
from core.analysis.inputs import AnalysisInput
from core.analysis.levels import (
    LevelParams,
    distance_to_zone,
    find_zones,
    nearest_resistance,
    nearest_support,
)
from core.analysis.plan import stop_price, target_prices
from core.analysis.synthesis import AnalysisParams, sr_component
from core.models import CandleArrays, Direction, ZoneKind
from handlers.cards import render_card
from tests.analysis import realdata
from tests.analysis.zone_reference import htf_from, reference_nearest, reference_zones

EXAMPLE_TS_MS = 1_741_672_800_000  # 2025-03-11 06:00 UTC: the 05:00 candle has just closed
DEFAULT = LevelParams()  # the real max_zones (12)


@pytest.fixture(scope="module")
def usdm():
    return realdata.klines(realdata.BTC_USDM_1H)


def price_at(source: CandleArrays, ts_ms: int) -> float:
    return float(source.until(ts_ms).close[-1])


def away_pct(zone, price: float) -> float:
    return distance_to_zone(zone.low, zone.high, price) / price * 100.0


def test_the_example_weak_near_support_is_the_nearest(usdm):
    htf = htf_from(usdm, EXAMPLE_TS_MS)
    price = price_at(usdm, EXAMPLE_TS_MS)
    zones = find_zones(htf, price, EXAMPLE_TS_MS, DEFAULT)
    assert len(zones) > DEFAULT.max_zones  # the analysis keeps every zone, not only the 12 strongest
    strongest_only = nearest_support(zones[:DEFAULT.max_zones])
    assert away_pct(strongest_only, price) > 7.0  # what the card used to show
    support = nearest_support(zones)
    assert support.touches == 2 and away_pct(support, price) < 0.5
    reference_support, reference_resistance = reference_nearest(reference_zones(htf, EXAMPLE_TS_MS), price)
    assert (support.low, support.high, support.touches) == reference_support
    resistance = nearest_resistance(zones)
    assert (resistance.low, resistance.high, resistance.touches) == reference_resistance


def test_the_card_the_stop_the_targets_and_the_score_use_the_near_zone(usdm):
    htf = htf_from(usdm, EXAMPLE_TS_MS)
    price = price_at(usdm, EXAMPLE_TS_MS)
    analysis = analyse(AnalysisInput("BTCUSDT", EXAMPLE_TS_MS, price, htf=htf))
    support = nearest_support(analysis.zones)
    resistance = nearest_resistance(analysis.zones)
    card = render_card(analysis, 1, "BTC", None)
    zone_lines = card.split("<b>Zones</b> (nearest)\n", 1)[1].split("\n\n", 1)[0].splitlines()
    supports = [line for line in zone_lines if line.startswith("S ")]
    assert supports[0].startswith(f"S {support.low:,.1f}–{support.high:,.1f} (-{away_pct(support, price):.2f}%)")
    assert "none below" not in card and "none above" not in card
    sr = sr_component(analysis.zones, price, 25.0)
    assert f"support {support.low:g}-{support.high:g} score {support.score:.0f}, 2 touches" in sr.reasons[0]
    assert sr.score == pytest.approx((support.score - resistance.score) / 100.0)
    assert support in analysis.drawn_zones and len(analysis.drawn_zones) <= DEFAULT.max_zones + 2
    atr = analysis.state("1h").atr
    _, reason = stop_price(Direction.LONG, price, atr, analysis.zones)
    assert f"{support.low:g}-{support.high:g}" in reason  # the protecting zone is the near one
    risk = 1.5 * atr
    targets = target_prices(Direction.SHORT, price, risk, analysis.zones)
    below = sorted((z.high for z in analysis.zones if z.high < price - risk), reverse=True)
    assert targets[0] == below[0]  # the nearest zone at least 1 R below, even a weak one


@pytest.mark.parametrize("step", range(0, 40))
def test_the_nearest_zones_agree_with_an_independent_implementation(usdm, step):
    index = 3_000 + step * 431  # 40 moments spread over 2024-2026
    ts_ms = int(usdm.open_time_ms[index])
    htf = htf_from(usdm, ts_ms)
    price = price_at(usdm, ts_ms)
    zones = find_zones(htf, price, ts_ms, DEFAULT)
    reference = reference_zones(htf, ts_ms)
    assert sorted((z.low, z.high, z.touches) for z in zones) == sorted(reference)
    support, resistance = reference_nearest(reference, price)
    for found, expected in ((nearest_support(zones), support), (nearest_resistance(zones), resistance)):
        assert (found is None) == (expected is None)
        if found is not None:
            assert (found.low, found.high, found.touches) == expected
    assert all(z.kind is ZoneKind.SUPPORT for z in zones if z.high < price)


def scrambled_after(source: CandleArrays, ts_ms: int, seed: int) -> CandleArrays:
    """The candles opening at or after ``ts_ms`` replaced by shuffled, rescaled copies of themselves."""
    rng = np.random.default_rng(seed)
    future = source.open_time_ms >= ts_ms
    order = rng.permutation(int(future.sum()))
    scale = rng.uniform(0.5, 1.5, order.size)

    def column(values: np.ndarray) -> np.ndarray:
        out = values.copy()
        out[future] = values[future][order] * scale
        return out

    return CandleArrays(source.symbol, source.interval, source.open_time_ms.copy(), column(source.open),
                        column(source.high), column(source.low), column(source.close), column(source.volume))


def test_scrambling_future_candles_changes_nothing(usdm):
    price = price_at(usdm, EXAMPLE_TS_MS)
    past = analyse(AnalysisInput("BTCUSDT", EXAMPLE_TS_MS, price, htf=htf_from(usdm, EXAMPLE_TS_MS)))
    for seed in (1, 2):
        scrambled = scrambled_after(usdm, EXAMPLE_TS_MS, seed)
        assert not np.array_equal(scrambled.close, usdm.close)
        later = analyse(AnalysisInput("BTCUSDT", EXAMPLE_TS_MS, price, htf=htf_from(scrambled)))
        assert later.zones == past.zones
        assert render_card(later, 1, "BTC", None) == render_card(past, 1, "BTC", None)


def test_max_zones_limits_only_what_the_chart_draws(usdm):
    htf = htf_from(usdm, EXAMPLE_TS_MS)
    price = price_at(usdm, EXAMPLE_TS_MS)
    wide = analyse(AnalysisInput("BTCUSDT", EXAMPLE_TS_MS, price, htf=htf))
    narrow = analyse(AnalysisInput("BTCUSDT", EXAMPLE_TS_MS, price, htf=htf),
                     AnalysisParams(levels=LevelParams(max_zones=3)))
    assert narrow.zones == wide.zones and narrow.plan == wide.plan and narrow.components == wide.components
    assert narrow.drawn_zones[:3] == wide.zones[:3] and len(narrow.drawn_zones) < len(wide.drawn_zones)
    assert nearest_support(wide.zones) in narrow.drawn_zones  # the card's zones stay on the chart
    assert nearest_resistance(wide.zones) in narrow.drawn_zones
