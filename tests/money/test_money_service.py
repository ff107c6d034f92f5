"""The conversion service: direct, inverse and cross rates from live prices; stale or missing prices
refuse with the reason; nothing converts at a made-up 1.0."""

from __future__ import annotations

import pytest

from core.brokers.paper import PaperBroker, PaperParams
from core.market.symbols import SymbolSpec, default_specs
from core.money import TUNABLES, MoneyService, RateUnavailable
from core.ports import FixedClock
from core.tunables import TunableValues

T0 = 1_763_000_000_000


class Prices:
    """A price cache: symbol -> (mid, ts_ms)."""

    def __init__(self) -> None:
        self.mids: dict[str, tuple[float, int]] = {}

    def __call__(self, symbol: str) -> tuple[float, int] | None:
        return self.mids.get(symbol)


def service(prices: Prices, clock: FixedClock, tunables: TunableValues | None = None,
            specs: list[SymbolSpec] | None = None) -> MoneyService:
    return MoneyService(specs if specs is not None else default_specs(), clock, lookups=(prices,),
                        tunables=tunables)


def test_direct_inverse_and_identity_rates() -> None:
    clock, prices = FixedClock(T0), Prices()
    prices.mids.update(USDJPY=(150.0, T0), GBPUSD=(1.25, T0), EURUSD=(1.08, T0))
    money = service(prices, clock)
    assert money.rate("USD", "USD") == 1.0
    assert money.rate("JPY", "USD") == pytest.approx(1 / 150.0)
    assert money.rate("USD", "JPY") == pytest.approx(150.0)
    assert money.rate("GBP", "USD") == pytest.approx(1.25)
    assert money.quote_rate("USDJPY", "USD") == pytest.approx(1 / 150.0)
    assert money.quote_rate("GBPJPY", "USD") == pytest.approx(1 / 150.0)  # P/L in yen
    assert money.base_rate("GBPJPY", "USD") == pytest.approx(1.25)  # one pound
    assert money.quote_rate("XAUUSD", "USD") == 1.0  # no price needed at all


def test_a_cross_when_the_direct_symbol_has_no_price() -> None:
    clock, prices = FixedClock(T0), Prices()
    prices.mids.update(GBPUSD=(1.25, T0), GBPJPY=(190.0, T0))
    money = service(prices, clock)
    # one yen = (USD per GBP) / (JPY per GBP)
    assert money.rate("JPY", "USD") == pytest.approx(1.25 / 190.0)
    prices.mids["USDJPY"] = (151.0, T0)
    assert money.rate("JPY", "USD") == pytest.approx(1 / 151.0)  # the direct symbol first


def test_missing_and_stale_prices_refuse_with_the_reason() -> None:
    clock, prices = FixedClock(T0), Prices()
    money = service(prices, clock, specs=[s for s in default_specs() if s.symbol in ("USDJPY", "XAUUSD")])
    with pytest.raises(RateUnavailable, match="cannot convert JPY to USD: no USDJPY price yet"):
        money.quote_rate("USDJPY", "USD")
    prices.mids["USDJPY"] = (150.0, T0 - 301_000)
    with pytest.raises(RateUnavailable) as refused:
        money.quote_rate("USDJPY", "USD")
    assert refused.value.message == "cannot convert JPY to USD: the USDJPY price is 301 s old (limit 300 s)"
    assert money.quote_rate("USDJPY", "USD", allow_stale=True) == pytest.approx(1 / 150.0)  # valuing, not deciding
    with pytest.raises(RateUnavailable, match="no symbol prices CHF in USD"):
        money.rate("CHF", "USD")
    with pytest.raises(RateUnavailable, match="currencies of US30 are unknown"):
        money.quote_rate("US30", "USD")


def test_the_max_age_setting_is_read_at_each_conversion() -> None:
    clock, prices = FixedClock(T0), Prices()
    tunables = TunableValues(TUNABLES)
    money = service(prices, clock, tunables)
    prices.mids["USDJPY"] = (150.0, T0 - 400_000)
    with pytest.raises(RateUnavailable, match="400 s old"):
        money.rate("JPY", "USD")
    tunables.set("money.max_rate_age_s", "600")
    assert money.rate("JPY", "USD") == pytest.approx(1 / 150.0)
    tunables.set("money.max_rate_age_s", "60")
    clock.set(T0 - 330_000)  # 70 s after the price
    with pytest.raises(RateUnavailable, match="70 s old \\(limit 60 s\\)"):
        money.rate("JPY", "USD")


def test_the_newest_price_wins_between_the_cache_and_noted_broker_quotes() -> None:
    clock, prices = FixedClock(T0), Prices()
    money = service(prices, clock)
    prices.mids["USDJPY"] = (150.0, T0 - 10_000)
    money.note("USDJPY", 151.9, 152.1, T0 - 1_000)
    assert money.rate("JPY", "USD") == pytest.approx(1 / 152.0)
    money.note("USDJPY", 140.0, 140.0, T0 - 20_000)  # older than what is known: ignored
    assert money.rate("JPY", "USD") == pytest.approx(1 / 152.0)


async def test_refresh_fetches_the_conversion_prices_from_a_broker() -> None:
    clock = FixedClock(T0)
    quotes = {"USDJPY": (149.99, 150.01), "GBPJPY": (190.0, 190.02)}
    broker = PaperBroker(quotes.get, clock, None, PaperParams(spread_bps=0.0))
    money = service(Prices(), clock)
    with pytest.raises(RateUnavailable):
        money.quote_rate("GBPJPY", "USD")
    assert await money.live_quote_rate("GBPJPY", "USD", broker.quote) == pytest.approx(1 / 150.0)
