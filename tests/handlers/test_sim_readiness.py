"""The simulated market is brought up to the clock before the bot answers anyone."""

import pytest

from bot.services import catch_up_simulator
from core.feeds.simulator import SimulatedFeed
from core.market.state import MarketState
from core.market.symbols import SymbolMap, default_specs
from core.models import DataSource
from core.ports import FixedClock

WHOLE_MINUTE_MS = 1_763_000_040_000


@pytest.mark.parametrize("past_minute_ms", [0, 1, 59_950])
def test_every_symbol_has_a_fresh_price_after_the_catch_up(past_minute_ms):
    clock = FixedClock(WHOLE_MINUTE_MS + past_minute_ms)
    symbol_map = SymbolMap(default_specs(""))
    feed = SimulatedFeed(symbol_map, seed=7, clock=clock)
    market = MarketState(symbol_map, clock, DataSource.SIMULATED)
    feed.subscribe(market.apply)
    assert feed.simulator.now_ms == WHOLE_MINUTE_MS  # the simulator starts at the whole minute

    catch_up_simulator(feed, clock)

    assert clock.now_ms() <= feed.simulator.now_ms < clock.now_ms() + 100 or (
        past_minute_ms == 0 and feed.simulator.now_ms == WHOLE_MINUTE_MS + 100)
    for symbol in symbol_map.symbols():
        info = market.price_info(symbol)
        assert info is not None and info.price > 0, symbol
        assert clock.now_ms() - info.ts_ms < 1_000, symbol  # data from the last step, not the minute start
