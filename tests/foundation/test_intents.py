import pytest

from core.intents import IntentKind, parse_intent


@pytest.mark.parametrize("text, kind, symbol", [
    ("Analyse BTCUSD", IntentKind.ANALYSE, "BTCUSD"),
    ("analyze eurusd", IntentKind.ANALYSE, "EURUSD"),
    ("Check XAUUSD setup", IntentKind.ANALYSE, "XAUUSD"),
    ("Show me EURUSD", IntentKind.ANALYSE, "EURUSD"),
    ("BTCUSD setup?", IntentKind.ANALYSE, "BTCUSD"),
    ("Use GPT analysis for BTCUSD", IntentKind.AI_ANALYSE, "BTCUSD"),
    ("use AI on EURUSD", IntentKind.AI_ANALYSE, "EURUSD"),
    ("Run AI validation on XAUUSD", IntentKind.AI_ANALYSE, "XAUUSD"),
    ("GPT check this setup", IntentKind.AI_ANALYSE, None),
    ("check this setup with GPT", IntentKind.AI_ANALYSE, None),
    ("AI review the last signal!", IntentKind.AI_ANALYSE, None),
    ("Check order flow for BTCUSD", IntentKind.ORDER_FLOW, "BTCUSD"),
    ("flow xauusd", IntentKind.ORDER_FLOW, "XAUUSD"),
    ("Show whale activity on XAUUSD", IntentKind.WHALES, "XAUUSD"),
    ("whales btc", IntentKind.WHALES, "BTC"),
    ("support and resistance for gold", IntentKind.LEVELS, "GOLD"),
    ("order book for BTCUSD", IntentKind.DEPTH, "BTCUSD"),
    ("what is the price of gold?", IntentKind.PRICE, "GOLD"),
    ("BTCUSD price", IntentKind.PRICE, "BTCUSD"),
    ("health", IntentKind.HEALTH, None),
    ("show my positions", IntentKind.POSITIONS, None),
    ("help", IntentKind.HELP, None),
])
def test_sentences_map_to_intents(text, kind, symbol):
    intent = parse_intent(text)
    assert intent is not None and intent.kind is kind and intent.symbol == symbol


@pytest.mark.parametrize("text", ["hello", "", "/analyse BTCUSD", "buy me a car", "x" * 300,
                                  "what do you think about the weather"])
def test_other_text_is_not_an_intent(text):
    assert parse_intent(text) is None
