"""Price sync: basis estimates on synthetic broker quotes, stability reasons, translation."""

import random

import pytest

from core.market.price_sync import (
    TUNABLES,
    BasisMethod,
    BasisUnavailable,
    PriceSync,
    SyncParams,
    methods_for,
)
from core.tunables import TunableValues

T0 = 1_723_161_600_000


def walk(count: int, start: float = 60_000.0, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    prices, price = [], start
    for _ in range(count):
        price *= 1 + rng.gauss(0, 0.0005)
        prices.append(price)
    return prices


def test_ratio_basis_recovers_a_known_premium():
    sync = PriceSync(window=200)
    rng = random.Random(1)
    for i, reference in enumerate(walk(200)):
        broker = reference * 1.0008 * (1 + rng.gauss(0, 0.00002))  # 8 bps premium, 0.2 bps noise
        assert sync.record("BTCUSD", reference, broker, T0 + i * 1000)
    basis = sync.basis("BTCUSD", T0 + 200_000)
    assert basis.stable and basis.samples == 200
    assert basis.median_ratio == pytest.approx(1.0008, abs=2e-6)
    assert basis.median_difference_bps == pytest.approx(8.0, abs=0.02)
    assert basis.spread_bps == pytest.approx(0.2 * 0.6745, rel=0.25)  # MAD of a normal = 0.6745 sigma
    assert sync.to_broker("BTCUSD", 61_000.0) == pytest.approx(61_000.0 * 1.0008, rel=2e-6)
    assert sync.from_broker("BTCUSD", sync.to_broker("BTCUSD", 61_000.0)) == pytest.approx(61_000.0)


def test_difference_basis_for_fx():
    sync = PriceSync(window=50, methods=methods_for({"EURUSD": "fx", "XAUUSD": "metal"}))
    assert sync.method("XAUUSD") is BasisMethod.RATIO
    for i in range(50):
        reference = 1.1000 + 0.0001 * (i % 7)
        sync.record("EURUSD", reference, reference - 0.00015, T0 + i)
    basis = sync.basis("EURUSD")
    assert basis.method is BasisMethod.DIFFERENCE and basis.median_difference == pytest.approx(-0.00015)
    assert sync.to_broker("EURUSD", 1.2) == pytest.approx(1.19985)


@pytest.mark.parametrize(
    ("samples", "noise", "now_offset_s", "reason"),
    [
        (5, 0.0, 0, "only 5 of 20 price pairs"),
        (100, 0.01, 0, "basis too noisy"),
        (100, 0.0, 301, "newest price pair is 301 s old"),
    ],
)
def test_unstable_basis_refuses_translation(samples, noise, now_offset_s, reason):
    sync = PriceSync(window=100)
    rng = random.Random(3)
    for i in range(samples):
        sync.record("XAUUSD", 2400.0, 2401.0 * (1 + rng.gauss(0, noise)), T0 + i)
    now = T0 + samples - 1 + now_offset_s * 1000
    basis = sync.basis("XAUUSD", now)
    assert not basis.stable and reason in basis.reason
    with pytest.raises(BasisUnavailable, match=reason):
        sync.to_broker("XAUUSD", 2400.0, now)


def test_window_is_bounded_and_follows_a_changing_basis():
    sync = PriceSync(window=30)
    for i in range(1000):
        premium = 1.001 if i < 900 else 1.002
        sync.record("BTCUSD", 100.0, 100.0 * premium, T0 + i)
    basis = sync.basis("BTCUSD")
    assert sync.samples("BTCUSD") == 30 and basis.median_ratio == pytest.approx(1.002)


def test_pairs_too_far_apart_or_invalid_are_skipped():
    sync = PriceSync()
    assert not sync.record_quote("BTCUSD", 100.0, T0, 100.1, T0 + 2_001)
    assert sync.record_quote("BTCUSD", 100.0, T0, 100.1, T0 + 1_999)
    assert not sync.record("BTCUSD", 0.0, 100.0, T0)
    assert not sync.record("BTCUSD", float("nan"), 100.0, T0)
    assert not sync.record("BTCUSD", 100.0, float("inf"), T0)
    assert sync.samples("BTCUSD") == 1
    assert sync.basis("ETHUSD") is None
    with pytest.raises(BasisUnavailable, match="no broker quotes"):
        sync.to_broker("ETHUSD", 1.0)


def test_identity_for_the_paper_broker():
    sync = PriceSync.identity()
    basis = sync.basis("XAUUSD", T0)
    assert basis.stable and basis.median_ratio == 1.0 and basis.median_difference == 0.0
    assert sync.to_broker("XAUUSD", 2412.34) == 2412.34


def test_tunables_feed_params():
    values = TunableValues(TUNABLES)
    assert all(t.group == "price_sync" for t in TUNABLES)
    assert SyncParams.from_values(values) == SyncParams()
