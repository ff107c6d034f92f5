"""Feed health: status transitions with a FixedClock, reasons, rates, aggregation."""

import pytest

from core.market.health import TUNABLES, FeedHealth, HealthParams, HealthStatus
from core.market.symbols import default_symbol_map
from core.models import StreamKind
from core.ports import FeedHealthSink, FixedClock
from core.tunables import TunableValues

T0 = 1_723_161_600_000


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def health(clock) -> FeedHealth:
    return FeedHealth(clock, symbol_resolver=default_symbol_map().from_binance)


def feed(health: FeedHealth, clock: FixedClock, stream=StreamKind.DEPTH, *, seconds: int, per_second: int = 10,
         symbol: str = "BTCUSD") -> None:
    """Deliver ``per_second`` messages a second for ``seconds`` seconds, advancing the clock."""
    for _ in range(seconds):
        for i in range(per_second):
            health.record_message(symbol, stream, clock.now_ms() + i * (1000 // per_second))
        clock.advance(1000)


def test_ok_degraded_stale_ok(health, clock):
    feed(health, clock, seconds=12)
    assert health.status("BTCUSD")[0] is HealthStatus.OK
    clock.advance(5_000)
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.DEGRADED and "no depth message for 5 s" in reason  # last one 5.1 s ago
    clock.advance(25_000)
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.STALE and "no depth message for 30 s" in reason
    assert not health.is_tradeable("BTCUSD")
    feed(health, clock, seconds=1)
    assert health.status("BTCUSD")[0] is HealthStatus.OK


@pytest.mark.parametrize(
    ("params", "silence_s", "expected"),
    [
        (HealthParams(), 4, HealthStatus.OK),
        (HealthParams(), 5, HealthStatus.DEGRADED),
        (HealthParams(), 29, HealthStatus.DEGRADED),
        (HealthParams(), 30, HealthStatus.STALE),
        (HealthParams(degraded_after_s=1, stale_after_s=3), 2, HealthStatus.DEGRADED),
        (HealthParams(degraded_after_s=1, stale_after_s=3), 3, HealthStatus.STALE),
    ],
)
def test_silence_thresholds(clock, params, silence_s, expected):
    health = FeedHealth(clock, params)
    health.record_message("BTCUSD", StreamKind.KLINE, clock.now_ms())
    clock.advance(silence_s * 1000)
    assert health.status("BTCUSD")[0] is expected


def test_rate_age_and_report_fields(health, clock):
    feed(health, clock, seconds=20, per_second=10)
    feed(health, clock, StreamKind.TRADE, seconds=10, per_second=3)
    clock.advance(500)
    rows = {row.stream: row for row in health.report("BTCUSD")}
    depth, trade = rows["depth"], rows["aggTrade"]
    assert trade.msg_rate_per_s == pytest.approx(3.0)
    assert depth.msg_rate_per_s == pytest.approx(0.0)  # silent for the last 10 s
    assert depth.last_msg_age_s == pytest.approx(10.6)  # last depth message at 19.9 s, now 30.5 s
    assert depth.messages == 200 and trade.messages == 30
    assert depth.status is HealthStatus.DEGRADED and trade.status is HealthStatus.OK


def test_disconnect_is_stale_until_messages_flow_again(health, clock):
    health.record_connected(["BTCUSD", "XAUUSD"], clock.now_ms())
    feed(health, clock, seconds=2)
    health.record_disconnected(["BTCUSD", "XAUUSD"], "ping timeout", clock.now_ms())
    clock.advance(1_000)
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.STALE and "disconnected 1 s ago: ping timeout" in reason
    health.record_reconnect(["BTCUSD"], "ping timeout", clock.now_ms())
    health.record_connected(["BTCUSD"], clock.now_ms())
    feed(health, clock, seconds=2)
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.DEGRADED and "reconnected 1x in the last 5 min (ping timeout)" in reason
    clock.advance(300_000)
    feed(health, clock, seconds=1)
    assert health.status("BTCUSD")[0] is HealthStatus.OK
    assert health.report("BTCUSD")[0].reconnects == 1


def test_gaps_and_malformed_degrade_for_the_recent_window(health, clock):
    feed(health, clock, seconds=2)
    health.record_gap("BTCUSD", StreamKind.DEPTH, clock.now_ms(), "U 10 != u 8 + 1")
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.DEGRADED and "1 gap in the last 5 min (U 10 != u 8 + 1)" in reason
    clock.advance(301_000)
    feed(health, clock, seconds=1)
    assert health.status("BTCUSD")[0] is HealthStatus.OK
    for _ in range(4):
        health.record_malformed("btcusdt@depth20@100ms", clock.now_ms(), "bad json")
    assert health.status("BTCUSD")[0] is HealthStatus.OK  # below the threshold of 5
    health.record_malformed("btcusdt@depth20@100ms", clock.now_ms(), "bad json")
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.DEGRADED and "5 malformed messages" in reason
    health.record_malformed("garbage", clock.now_ms())
    assert {row.symbol for row in health.report()} == {"BTCUSD", "*"}


def test_expected_stream_that_never_delivers(health, clock):
    health.record_connected(["XAUUSD"], clock.now_ms())
    health.expect("XAUUSD", [StreamKind.DEPTH])
    status, reason = health.status("XAUUSD")
    assert status is HealthStatus.DEGRADED and "waiting for the first depth message" in reason
    clock.advance(31_000)
    status, reason = health.status("XAUUSD")
    assert status is HealthStatus.STALE and "no depth message since connecting 31 s ago" in reason


def test_quiet_trades_alone_do_not_make_a_symbol_stale(health, clock):
    feed(health, clock, StreamKind.TRADE, seconds=1, per_second=1)
    clock.advance(400_000)
    feed(health, clock, StreamKind.DEPTH, seconds=1)
    rows = {row.stream: row for row in health.report("BTCUSD")}
    assert rows["aggTrade"].status is HealthStatus.STALE
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.DEGRADED and "no trade message" in reason
    clock.advance(31_000)  # now the book is silent too
    assert health.status("BTCUSD")[0] is HealthStatus.STALE


def test_unknown_symbol_is_stale_and_protocol_is_implemented(health):
    status, reason = health.status("GBPUSD")
    assert status is HealthStatus.STALE and "no market data received for GBPUSD" in reason
    sink: FeedHealthSink = health
    sink.record_message("GBPUSD", "quote", 0)  # broker-fed symbols may use any stream name


def test_tunables_are_valid_and_feed_params():
    values = TunableValues(TUNABLES)
    assert all(t.group == "feed" for t in TUNABLES)
    assert HealthParams.from_values(values) == HealthParams()
    values.set("feed.stale_after_s", "12")
    assert HealthParams.from_values(values).stale_after_s == 12.0
