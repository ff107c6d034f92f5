"""EventBus: delivery by type, isolation of slow and failing subscribers, bounded queues, lag stats."""

from __future__ import annotations

import asyncio
import threading

from core.bus import EventBus
from core.events import BreakerChanged, Event, FeedHealthChanged, SettingChanged, WhaleTrade
from core.models import Side


def whale(i: int) -> WhaleTrade:
    return WhaleTrade(ts_ms=i, symbol="BTCUSD", price=100.0, qty=1000.0, notional_usd=100_000.0, side=Side.BUY,
                      tier="100k", trade_id=i)


async def test_each_subscriber_gets_only_its_types():
    bus = EventBus()
    whales, everything = [], []
    bus.subscribe("whales", whales.append, WhaleTrade)
    bus.subscribe("all", everything.append)
    await bus.start()
    bus.publish(whale(1))
    bus.publish(BreakerChanged(ts_ms=2, tripped=True, reason="loss 3.1% over 3%"))
    assert await bus.drain()
    assert [e.trade_id for e in whales] == [1]
    assert [type(e) for e in everything] == [WhaleTrade, BreakerChanged]
    await bus.stop()


async def test_slow_and_raising_subscribers_do_not_change_what_others_receive():
    bus = EventBus(default_maxsize=10_000)
    fast: list[Event] = []
    release = asyncio.Event()

    async def slow(event: Event) -> None:
        await release.wait()

    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    bus.subscribe("slow", slow)
    bus.subscribe("broken", broken)
    bus.subscribe("fast", fast.append)
    await bus.start()
    for i in range(500):
        bus.publish(whale(i))  # returns at once although "slow" has not handled one
    await asyncio.sleep(0.05)
    assert [e.trade_id for e in fast] == list(range(500))
    stats = {s.name: s for s in bus.stats()}
    assert stats["broken"].errors == 500 and "boom" in stats["broken"].last_error
    assert stats["slow"].queue_depth == 499 and stats["slow"].delivered == 0
    release.set()
    assert await bus.drain()
    stats = {s.name: s for s in bus.stats()}
    assert stats["slow"].delivered == 500 and stats["slow"].lag_max_ms >= 40.0
    await bus.stop()


async def test_a_full_queue_drops_the_oldest_and_counts_it():
    bus = EventBus()
    got: list[int] = []
    gate = asyncio.Event()

    async def handler(event: WhaleTrade) -> None:
        await gate.wait()
        got.append(event.trade_id)

    bus.subscribe("bounded", handler, WhaleTrade, maxsize=3)
    await bus.start()
    bus.publish(whale(0))
    await asyncio.sleep(0)  # the worker takes 0 and waits on the gate
    for i in range(1, 8):
        bus.publish(whale(i))
    gate.set()
    assert await bus.drain()
    assert got == [0, 5, 6, 7]
    (stats,) = bus.stats()
    assert stats.dropped == 4 and not stats.healthy
    await bus.stop()


async def test_events_published_before_start_are_delivered_after_it():
    bus = EventBus()
    got = []
    bus.subscribe("late", got.append)
    bus.publish(FeedHealthChanged(ts_ms=1, symbol="BTCUSD", old_status="OK", new_status="STALE"))
    await bus.start()
    assert await bus.drain()
    assert len(got) == 1
    await bus.stop()


async def test_publish_from_a_worker_thread_reaches_the_loop():
    bus = EventBus()
    got = []
    bus.subscribe("settings", got.append, SettingChanged)
    await bus.start()
    event = SettingChanged(ts_ms=1, name="risk.max_open_positions", old_value="3", new_value="2", by_user_id=1,
                           live=True)
    thread = threading.Thread(target=bus.publish_threadsafe, args=(event,))
    thread.start()
    thread.join()
    for _ in range(100):
        if got:
            break
        await asyncio.sleep(0.01)
    assert got == [event]
    await bus.stop()


def test_wants_tells_publishers_whether_anyone_listens():
    bus = EventBus()
    assert not bus.wants(WhaleTrade)
    bus.subscribe("whales", lambda e: None, WhaleTrade)
    assert bus.wants(WhaleTrade) and not bus.wants(BreakerChanged)
