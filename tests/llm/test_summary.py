"""The screener's prompt on the seven default symbols: lean (under 1,200 tokens), stable part first,
market facts only."""

from core.llm.prompts import SCREENER_INSTRUCTIONS, screener_prompt
from core.llm.summary import SummaryContext, market_summary
from tests.conftest import warm_market
from tests.llm.tokens import prompt_tokens

DEFAULT_SYMBOLS = ("BTCUSD", "XAUUSD", "EURUSD", "GBPUSD", "USDJPY", "GBPJPY", "EURJPY")


async def test_screener_prompts_are_lean_and_market_only(runtime, clock):
    warm_market(runtime, clock)
    symbol_map, service = runtime.services.symbol_map, runtime.services.analysis_service
    assert tuple(symbol_map.symbols()) == DEFAULT_SYMBOLS
    sizes = {}
    for symbol in DEFAULT_SYMBOLS:
        analysis = service.analyse(symbol)
        summary = market_summary(analysis, SummaryContext(symbol_map.spec(symbol).price_digits, basis_bps=3.2))
        prompt = screener_prompt(summary, max_output_tokens=300)
        sizes[symbol] = prompt_tokens(prompt)
        assert prompt.system == SCREENER_INSTRUCTIONS  # the same stable prefix for every symbol
        lines = summary.splitlines()
        assert lines[0].startswith(f"{symbol} ") and any(line.startswith("zones ") for line in lines)
        assert any(line.startswith("tf 1h rsi") for line in lines) and "basis +3.2bps" in summary
        for private in ("balance", "equity", "account", "chat", "user"):
            assert private not in summary.lower()
    assert max(sizes.values()) < 1200, sizes
