"""Symbol map: resolution table, both directions, config overrides."""

import pytest

from core.market.symbols import (
    AssetClass,
    BinanceMarket,
    SymbolConfigError,
    SymbolMap,
    SymbolSpec,
    default_symbol_map,
    symbol_map_from_config,
)


@pytest.fixture
def symbols() -> SymbolMap:
    return default_symbol_map(broker_suffix="c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BTCUSD", "BTCUSD"), ("btcusd", "BTCUSD"), ("btc", "BTCUSD"), ("Bitcoin", "BTCUSD"),
        ("BTCUSDT", "BTCUSD"), ("btcusdc", "BTCUSD"), (" /btc ", "BTCUSD"), ("$BTC", "BTCUSD"),
        ("gold", "XAUUSD"), ("GOLD", "XAUUSD"), ("xau", "XAUUSD"), ("xauusdt", "XAUUSD"), ("XAUUSDc", "XAUUSD"),
        ("eur", "EURUSD"), ("euro", "EURUSD"), ("eurusdt", "EURUSD"),
        ("gbpusd", "GBPUSD"), ("cable", "GBPUSD"), ("usdjpyc", "USDJPY"), ("GBPJPY", "GBPJPY"), ("eurjpy", "EURJPY"),
        ("ethusd", None), ("", None), ("gbpusdt", None),
    ],
)
def test_resolve_table(symbols, text, expected):
    assert symbols.resolve(text) == expected


@pytest.mark.parametrize(
    ("symbol", "binance"),
    [
        ("BTCUSD", ("BTCUSDT", BinanceMarket.SPOT)),
        ("XAUUSD", ("XAUUSDT", BinanceMarket.FUTURES)),
        ("EURUSD", ("EURUSDT", BinanceMarket.SPOT)),
        ("GBPUSD", None), ("USDJPY", None), ("GBPJPY", None), ("EURJPY", None), ("NOPE", None),
    ],
)
def test_to_binance(symbols, symbol, binance):
    assert symbols.to_binance(symbol) == binance
    assert symbols.has_order_flow(symbol) is (binance is not None)


def test_from_binance_both_markets_and_pass_through(symbols):
    assert symbols.from_binance("btcusdt") == "BTCUSD"
    assert symbols.from_binance("BTCUSDT", "spot") == "BTCUSD"
    assert symbols.from_binance("XAUUSDT", BinanceMarket.FUTURES) == "XAUUSD"
    assert symbols.from_binance("xauusdt", "spot") == "XAUUSDT"  # not mapped on spot: passes through
    assert symbols.from_binance("ethusdt") == "ETHUSDT"


def test_broker_names_both_ways(symbols):
    assert symbols.to_broker("XAUUSD") == "XAUUSDc"
    assert symbols.from_broker("xauusdc") == "XAUUSD"
    assert symbols.from_broker("XAUUSD") is None  # the broker name has the suffix
    assert default_symbol_map().to_broker("BTCUSD") == "BTCUSD"


def test_lists_and_notes(symbols):
    assert symbols.symbols() == ["BTCUSD", "XAUUSD", "EURUSD", "GBPUSD", "USDJPY", "GBPJPY", "EURJPY"]
    assert sorted(symbols.binance_symbols("spot")) == [("BTCUSDT", "spot"), ("EURUSDT", "spot")]
    assert symbols.binance_symbols("futures") == [("XAUUSDT", "futures")]
    assert symbols.order_flow_note("BTCUSD") is None
    assert "No order flow for GBPJPY" in symbols.order_flow_note("GBPJPY")
    assert symbols.spec("gold").asset_class is AssetClass.METAL
    with pytest.raises(KeyError):
        symbols.spec("DOGE")


def test_conflicting_names_are_rejected():
    with pytest.raises(SymbolConfigError, match="used by both"):
        SymbolMap([SymbolSpec("AAA", None, None, "AAA", ("x",)), SymbolSpec("BBB", None, None, "BBB", ("x",))])
    with pytest.raises(SymbolConfigError, match="both"):
        SymbolMap([SymbolSpec("AAA", "AAAUSDT", None, "AAA")])


def test_config_overrides_add_and_enable():
    symbols = symbol_map_from_config({
        "broker_suffix": "m",
        "enabled": ["BTCUSD", "XAUUSD", "US30", "GBPUSD"],
        "symbols": {
            "xauusd": {"broker_symbol": "GOLD", "aliases": ["gold", "yellow"]},
            "US30": {"binance_symbol": None, "asset_class": "Index", "price_digits": 1, "quote_currency": "usd"},
            "GBPUSD": {"binance_symbol": "GBPUSDT"},
        },
    })
    assert symbols.symbols() == ["BTCUSD", "XAUUSD", "US30", "GBPUSD"]
    assert symbols.to_broker("BTCUSD") == "BTCUSDm"
    assert symbols.to_broker("XAUUSD") == "GOLD" and symbols.resolve("yellow") == "XAUUSD"
    assert symbols.to_binance("XAUUSD") == ("XAUUSDT", BinanceMarket.FUTURES)
    assert symbols.spec("US30").asset_class is AssetClass.INDEX and symbols.to_broker("US30") == "US30m"
    assert symbols.to_binance("GBPUSD") == ("GBPUSDT", BinanceMarket.SPOT)
    assert symbols.resolve("eur") is None  # EURUSD not enabled
    assert symbols.spec("US30").currencies == ("", "USD")  # no base currency for an index
    assert symbols.spec("GBPUSD").currencies == ("GBP", "USD")  # read from the name


def test_currencies_of_the_default_symbols():
    pairs = {spec.symbol: spec.currencies for spec in default_symbol_map().specs()}
    assert pairs == {"BTCUSD": ("BTC", "USD"), "XAUUSD": ("XAU", "USD"), "EURUSD": ("EUR", "USD"),
                     "GBPUSD": ("GBP", "USD"), "USDJPY": ("USD", "JPY"), "GBPJPY": ("GBP", "JPY"),
                     "EURJPY": ("EUR", "JPY")}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"bogus": 1}, "unknown keys"),
        ({"enabled": ["BTCUSD", "DOGEUSD"]}, "DOGEUSD"),
        ({"symbols": {"BTCUSD": {"binance_market": "margin"}}}, "binance_market must be one of"),
        ({"symbols": {"BTCUSD": {"colour": "red"}}}, "unknown keys colour"),
        ({"symbols": {"BTCUSD": {"price_digits": "two"}}}, "price_digits"),
        ({"symbols": {"BTCUSD": "BTCUSDT"}}, "expected a mapping"),
        ({"symbols": {"US30": {"quote_currency": "dollar"}}}, "quote_currency must be a three-letter"),
    ],
)
def test_config_errors_are_readable(section, message):
    with pytest.raises(SymbolConfigError, match=message):
        symbol_map_from_config(section)


def test_empty_config_is_the_default():
    assert symbol_map_from_config(None).symbols() == default_symbol_map().symbols()
