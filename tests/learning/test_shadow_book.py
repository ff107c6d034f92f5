"""The shadow book on real BTCUSDT data: opens from SignalEvaluated, resolves with the live exit rules,
learns decisions, resumes after a restart, expires at its horizon, prefers 1 s bars."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.events import ApprovalDecided, Decision, SignalIssued, Trigger
from core.exits import ExitParams
from core.fills import FillModel
from core.learning.outcomes import Outcome
from core.learning.resolver import TradeWalker, entry_fill, finest_bars
from core.learning.shadow import InMemoryShadowStore, ShadowBook, ShadowParams
from core.models import CandleArrays, DataSource, close_end_ms
from tests.paths import BINANCE_DATA

FILE = BINANCE_DATA / "klines" / "spot_BTCUSDT_5m_20201201-20210717.csv"


def book(store, **params) -> ShadowBook:
    return ShadowBook(store, fills=FillModel, exits=ExitParams, params=lambda: ShadowParams(**params))


async def test_a_shadow_trade_resolves_like_a_walker_over_the_same_bars(signal) -> None:
    event, after = signal
    store = InMemoryShadowStore()
    shadows = book(store)
    trade = await shadows.on_evaluated(event)
    assert trade is not None and trade.accepted and trade.entry_fill == entry_fill(event.plan, FillModel())
    assert dict(trade.tags)["setup_type"] == event.plan.setup_type
    closed = await shadows.advance("BTCUSDT", int(close_end_ms(after.open_time_ms[-1:], "5m")[0]), minutes=after)
    assert [t.id for t in closed] == [event.evaluation_id]
    walker = TradeWalker(event.plan, entry_price=trade.entry_fill, opened_ts_ms=event.ts_ms, fills=FillModel(),
                         params=ExitParams())
    for end, o, h, low, c in finest_bars(None, after, event.ts_ms, 10**15):
        if walker.step(end, o, h, low, c):
            break
    assert closed[0].resolution == walker.resolution()
    assert store.trades[event.evaluation_id].closed and not await store.open_trades()


async def test_a_restart_resumes_the_open_trade(signal) -> None:
    event, after = signal
    store = InMemoryShadowStore()
    first = book(store)
    await first.on_evaluated(event)
    middle = int(close_end_ms(after.open_time_ms[3:4], "5m")[0])
    await first.advance("BTCUSDT", middle, minutes=after)
    again = book(store)
    assert await again.load() == len(await store.open_trades())
    end = int(close_end_ms(after.open_time_ms[-1:], "5m")[0])
    closed = (await again.advance("BTCUSDT", end, minutes=after)) or list(store.closed())
    straight = book(InMemoryShadowStore())
    await straight.on_evaluated(event)
    reference = await straight.advance("BTCUSDT", end, minutes=after)
    assert closed[0].resolution == reference[0].resolution


async def test_decisions_and_verdicts_become_tags(signal) -> None:
    event, after = signal
    store = InMemoryShadowStore()
    shadows = book(store)
    await shadows.on_evaluated(event)
    await shadows.on_issued(SignalIssued(ts_ms=event.ts_ms, approval_id="ap1", symbol="BTCUSDT", plan=event.plan,
                                         chat_id=1, requested_by=1, trigger=Trigger.CLOSE, source=DataSource.REPLAY,
                                         executable=True, evaluation_id=event.evaluation_id))
    await shadows.on_verdict(event.evaluation_id, "screener", "STRONG")
    end = int(close_end_ms(after.open_time_ms[-1:], "5m")[0])
    await shadows.advance("BTCUSDT", end, minutes=after)
    await shadows.on_decided(ApprovalDecided(ts_ms=end, approval_id="ap1", symbol="BTCUSDT",
                                             decision=Decision.REJECT, chat_id=1, by_user_id=1))
    tags = dict(store.trades[event.evaluation_id].result().tags)
    assert (tags["decision"], tags["screener"], tags["validator"], tags["plan"]) == ("reject", "strong", "none",
                                                                                      "accepted")


async def test_an_unresolved_trade_expires_at_its_horizon(signal) -> None:
    event, after = signal
    store = InMemoryShadowStore()
    shadows = book(store, max_hold_hours=1.0)
    trade = await shadows.on_evaluated(event)
    [closed] = await shadows.advance("BTCUSDT", trade.expires_ts_ms + 1, minutes=after)
    assert closed.resolution.outcome in (Outcome.EXPIRED, Outcome.LOSS, Outcome.WIN)
    if closed.resolution.outcome is Outcome.EXPIRED:
        assert closed.resolution.close_ts_ms == trade.expires_ts_ms + 1


async def test_rejected_candidates_are_shadowed_only_when_asked(signal) -> None:
    event, _ = signal
    rejected = replace(event, plan=None, rejection="confidence too low", evaluation_id="r1")
    assert await book(InMemoryShadowStore(), include_rejected=False).on_evaluated(rejected) is None
    trade = await book(InMemoryShadowStore()).on_evaluated(rejected)
    assert trade is not None and not trade.accepted


def test_seconds_replace_a_minute_they_cover_completely() -> None:
    t0 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000
    minutes = CandleArrays("X", "1m", np.array([t0, t0 + 60_000]), *(np.array([100.0, 101.0]),) * 5)
    secs = np.arange(t0, t0 + 60_000, 1000)
    seconds = CandleArrays("X", "1s", secs, *(np.full(60, 100.5),) * 5)
    bars = finest_bars(seconds, minutes, t0, t0 + 120_000)
    assert len(bars) == 61 and bars[0][0] == t0 + 1000 and bars[-1] == (t0 + 120_000, 101.0, 101.0, 101.0, 101.0)
    partial = CandleArrays("X", "1s", secs[:30], *(np.full(30, 100.5),) * 5)
    assert len(finest_bars(partial, minutes, t0, t0 + 120_000)) == 2  # a gap in the seconds: the minute bars
