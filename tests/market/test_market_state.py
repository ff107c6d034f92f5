"""MarketState: event routing, 1s source preference, ticks, health recording, readiness, bounds."""

import csv

import pytest

from core.market.health import FeedHealth, HealthStatus
from core.market.prices import PriceOrigin
from core.market.state import TUNABLES, MarketState, MarketStateParams
from core.market.symbols import default_symbol_map
from core.models import BookSnapshot, Candle, DataSource, Side, StreamKind, Trade
from core.ports import FixedClock
from core.tunables import TunableValues
from tests.paths import BINANCE_DATA

T0 = 1_723_161_600_000  # 2024-08-09 00:00:00 UTC


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def health(clock) -> FeedHealth:
    return FeedHealth(clock)


@pytest.fixture
def state(clock, health) -> MarketState:
    return MarketState(default_symbol_map(), clock, DataSource.LIVE, health)


def trade(ts_ms: int, price: float, qty: float = 1.0, trade_id: int = 0, symbol: str = "XAUUSD",
          side: Side = Side.BUY) -> Trade:
    return Trade(symbol, trade_id, price, qty, ts_ms, side)


def test_trades_build_seconds_minutes_tape_and_tick(state, clock):
    for i in range(125):  # one trade every second from 00:00:00.500, two minutes and a bit
        state.apply(trade(T0 + 500 + i * 1000, 2400.0 + i, trade_id=i + 1))
    seconds = state.seconds("XAUUSD")
    assert seconds.open_time_ms[0] == T0 + 1000  # the first (joined mid-way) second is dropped
    assert seconds.open_time_ms[-1] == T0 + 123_000 and len(seconds) == 123
    assert seconds.close[-1] == 2523.0
    minutes = state.minutes("XAUUSD")
    assert minutes.open_time_ms.tolist() == [T0 + 60_000]  # minute 0 partial, minute 2 forming
    assert minutes.open[0] == 2460.0 and minutes.close[0] == 2519.0 and minutes.volume[0] == 60.0
    clock.set(T0 + 124_600)
    tick = state.tick("XAUUSD")
    assert (tick.price, tick.ts_ms, tick.source) == (2524.0, T0 + 124_500, DataSource.LIVE)
    info = state.price_info("XAUUSD")
    assert info.origin is PriceOrigin.TRADE and info.age_s == pytest.approx(0.1)
    tape = state.trades_since("XAUUSD", T0 + 120_000)
    assert tape.price.tolist() == [2520.0, 2521.0, 2522.0, 2523.0, 2524.0]
    assert state.forming("XAUUSD", "1m").open_time_ms == T0 + 120_000
    assert state.forming("XAUUSD", "1m").close == 2524.0


def test_advance_closes_quiet_seconds_as_flat_candles(state, clock):
    state.apply(trade(T0 + 100, 10.0))
    state.apply(trade(T0 + 1_100, 11.0))
    clock.set(T0 + 6_000)
    state.advance()  # grace 2 s: closes seconds ending by 00:00:04
    seconds = state.seconds("XAUUSD")
    assert seconds.open_time_ms.tolist() == [T0 + 1000, T0 + 2000, T0 + 3000]
    assert seconds.close.tolist() == [11.0, 11.0, 11.0] and seconds.volume.tolist() == [1.0, 0.0, 0.0]


def test_1s_klines_win_over_trade_built_seconds(state):
    for i in range(10):
        second = T0 + i * 1000
        state.apply(trade(second + 100, 100.0 + i, symbol="BTCUSD", trade_id=i + 1))
        state.apply(Candle("BTCUSD", "1s", second, 50.0, 50.0, 50.0, 50.0, 9.0))  # the kline says otherwise
    seconds = state.seconds("BTCUSD")
    assert seconds.volume.tolist() == [9.0] * 10  # only kline seconds are stored


def test_forming_kline_updates_price_but_is_not_stored(state, clock):
    clock.set(T0 + 30_000)
    state.apply(Candle("BTCUSD", "1m", T0, 100.0, 101.0, 99.0, 100.5, 3.0, closed=False))
    assert len(state.minutes("BTCUSD")) == 0
    assert state.tick("BTCUSD").price == 100.5
    assert state.price_info("BTCUSD").origin is PriceOrigin.KLINE
    state.apply(Candle("BTCUSD", "4h", T0 - 4 * 3_600_000, 1.0, 2.0, 0.5, 1.5, 10.0))
    assert state.htf("BTCUSD", "4h").close.tolist() == [1.5]
    with pytest.raises(ValueError):
        state.htf("BTCUSD", "1m")


def test_book_sets_bid_ask_and_mid_price(state):
    book = BookSnapshot("BTCUSD", T0 + 10, 1, ((99.0, 1.0), (98.0, 2.0)), ((101.0, 1.0),))
    state.apply(book)
    assert state.book("BTCUSD") is book
    tick = state.tick("BTCUSD")
    assert (tick.price, tick.bid, tick.ask) == (100.0, 99.0, 101.0)
    state.apply(trade(T0 + 20, 100.5, symbol="BTCUSD"))
    tick = state.tick("BTCUSD")
    assert (tick.price, tick.bid, tick.ask) == (100.5, 99.0, 101.0)
    state.apply(BookSnapshot("BTCUSD", T0 + 15, 2, ((99.5, 1.0),), ((100.0, 1.0),)))  # older than the trade
    assert state.tick("BTCUSD").price == 100.5 and state.tick("BTCUSD").bid == 99.5


@pytest.mark.parametrize(
    "event",
    [
        Trade("BTCUSD", 1, float("nan"), 1.0, T0, Side.BUY),
        Trade("BTCUSD", 1, 100.0, -1.0, T0, Side.BUY),
        Candle("BTCUSD", "1s", T0, 10.0, 9.0, 11.0, 10.0, 1.0),  # high < low
        BookSnapshot("BTCUSD", T0, 1, ((101.0, 1.0),), ((100.0, 1.0),)),  # crossed
    ],
)
def test_impossible_values_are_recorded_not_applied(state, health, event):
    state.apply(event)
    assert state.tick("BTCUSD") is None
    assert sum(row.malformed for row in health.report("BTCUSD")) == 1


def test_aggtrade_id_jump_is_a_gap_when_asked(clock, health):
    quiet = MarketState(default_symbol_map(), clock, health=health)  # default: the feed adapter checks ids
    quiet.apply(trade(T0, 1.0, trade_id=10, symbol="XAUUSD"))
    quiet.apply(trade(T0, 1.0, trade_id=20, symbol="XAUUSD"))
    assert health.report("XAUUSD") == []
    state = MarketState(default_symbol_map(), clock, health=health, params=MarketStateParams(detect_trade_gaps=True))
    health.record_message("BTCUSD", StreamKind.TRADE, T0)
    state.apply(trade(T0, 1.0, trade_id=10, symbol="BTCUSD"))
    state.apply(trade(T0, 1.0, trade_id=11, symbol="BTCUSD"))
    assert health.status("BTCUSD")[0] is HealthStatus.OK
    state.apply(trade(T0, 1.0, trade_id=15, symbol="BTCUSD"))
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.DEGRADED and "3 trades missed after id 11" in reason


def test_record_messages_for_feeds_that_do_not_report(clock, health):
    state = MarketState(default_symbol_map(), clock, DataSource.SIMULATED, health,
                        MarketStateParams(record_messages=True))
    state.apply(trade(T0, 1.0, symbol="EURUSD"))
    state.apply(BookSnapshot("EURUSD", T0, 1, ((0.9, 1.0),), ((1.1, 1.0),)))
    assert {row.stream: row.messages for row in health.report("EURUSD")} == {"aggTrade": 1, "depth": 1}
    assert state.tick("EURUSD").source is DataSource.SIMULATED


def test_is_ready_says_what_is_missing(state, clock, health):
    assert state.is_ready("BTCUSD") == (False, "no price yet; no 1h, 4h, 1d history; "
                                               "feed stale (no market data received for BTCUSD)")
    health.record_message("BTCUSD", StreamKind.KLINE, T0)
    state.apply(trade(T0, 100.0, symbol="BTCUSD"))
    for interval, length in (("1h", 3_600_000), ("4h", 14_400_000)):
        state.set_history("BTCUSD", interval, [Candle("BTCUSD", interval, T0 - length, 1, 2, 0.5, 1, 1)])
    assert state.is_ready("BTCUSD") == (False, "no 1d history")
    state.set_history("BTCUSD", "1d", [Candle("BTCUSD", "1d", T0 - 86_400_000, 1, 2, 0.5, 1, 1)])
    assert state.is_ready("BTCUSD") == (True, "ready")
    assert state.is_ready("DOGEUSD") == (False, "DOGEUSD is not tracked")


def test_unknown_symbols_and_wrong_types(state):
    state.apply(trade(T0, 5.0, symbol="ETHUSDT"))
    assert "ETHUSDT" in state.symbols() and state.tick("ETHUSDT").price == 5.0
    assert len(state.seconds("NOPE")) == 0 and len(state.trades_since("NOPE", 0)) == 0
    assert state.book("NOPE") is None and state.forming("NOPE", "1h") is None
    with pytest.raises(TypeError):
        state.apply("not an event")


def test_memory_stays_fixed_over_100k_events(clock):
    params = MarketStateParams(seconds_capacity=3600, minutes_capacity=120, history_capacity=10, tape_capacity=2000)
    state = MarketState(default_symbol_map(), clock, params=params)
    state.apply(trade(T0, 100.0, trade_id=1))
    baseline = state.nbytes()
    book = BookSnapshot("XAUUSD", T0, 1, ((99.0, 1.0),), ((101.0, 1.0),))
    for i in range(2, 100_002):  # 100k events over 2.8 hours of trades (one every 100 ms) and books
        if i % 10:
            state.apply(trade(T0 + i * 100, 100.0 + (i % 50), trade_id=i))
        else:
            state.apply(book)
    sizes = state.sizes("XAUUSD")
    assert sizes["1s"] == 3600 and sizes["1m"] == 120 and sizes["tape"] == 2000
    assert sizes["1h"] == 1  # 00:00 started mid-minute (not derived); 01:00 complete; 02:00 forming
    assert state.nbytes() == baseline


def test_real_btc_trades_through_market_state_match_binance_1m(clock):
    state = MarketState(default_symbol_map(), clock)
    path = BINANCE_DATA / "aggtrades" / "derived_aggtrades_BTCUSDT_20240808T2354-20240809T0005.csv"
    with path.open() as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            side = Side.SELL if row["is_buyer_maker"] == "true" else Side.BUY
            state.apply(Trade("BTCUSD", i + 1, float(row["price"]), float(row["qty"]), int(row["trade_time_ms"]), side))
    with (BINANCE_DATA / "klines" / "derived_spot_BTCUSDT_1m_20240808T2354-20240809T0005.csv").open() as handle:
        reference = list(csv.DictReader(handle))
    minutes = state.minutes("BTCUSD")
    assert minutes.open_time_ms.tolist() == [int(r["open_time_ms"]) for r in reference]
    assert minutes.high.tolist() == [float(r["high"]) for r in reference]
    assert minutes.low.tolist() == [float(r["low"]) for r in reference]
    assert minutes.close.tolist() == [float(r["close"]) for r in reference]
    assert minutes.volume.tolist() == pytest.approx([float(r["volume"]) for r in reference], rel=1e-9)
    clock.set(T0 + 5 * 60_000 + 3_000)
    hour = state.forming("BTCUSD", "1h")  # 00:00 .. 00:05:03 from closed minutes + the forming minute
    after_midnight = reference[5:]
    assert hour.open_time_ms == T0 and not hour.closed
    assert hour.open == float(after_midnight[0]["open"])
    assert hour.high >= max(float(r["high"]) for r in after_midnight)
    assert hour.low <= min(float(r["low"]) for r in after_midnight)
    assert hour.close == state.tick("BTCUSD").price
    assert hour.volume > sum(float(r["volume"]) for r in after_midnight)  # plus the forming minute


def test_tunables_and_params():
    values = TunableValues(TUNABLES)
    assert all(t.group == "market" for t in TUNABLES)
    assert MarketStateParams.from_values(values, tape_capacity=10).tape_capacity == 10
