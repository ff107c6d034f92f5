"""The job that pairs broker quotes with Binance prices gives PriceSync a basis to translate plans."""

from core.market.price_sync import PriceSync
from jobs.trading import record_broker_quotes
from tests.conftest import warm_market


async def test_broker_quotes_build_a_stable_basis(runtime, clock):
    market, broker = runtime.services.market, runtime.services.broker
    sync = PriceSync()
    assert sync.basis("BTCUSD") is None
    for _ in range(25):
        warm_market(runtime, clock, seconds=1)
        assert await record_broker_quotes(sync, broker, market) >= 1
    basis = sync.basis("BTCUSD", clock.now_ms())
    assert basis is not None and basis.samples >= 20 and basis.stable, basis
    price = market.tick("BTCUSD").price
    # the paper broker quotes the same market: the translation is (almost) the identity
    assert abs(sync.to_broker("BTCUSD", price, clock.now_ms()) - price) / price < 5e-4
