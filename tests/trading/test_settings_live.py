"""/set applies at once to what it governs (an open position's trailing stop, feed health), and a
setting that is read only at start says so."""

from __future__ import annotations

from aiogram.methods import SendMessage

from core.market.health import HealthStatus
from core.models import BookSnapshot
from jobs.trading import feed_prices_to_positions
from tests.trading.conftest import button, latest_card


async def _price(runtime, clock, symbol: str, price: float) -> None:
    """The market (and so the paper broker) quotes ``symbol`` around ``price`` now."""
    clock.advance(1_000)
    half = price * 1e-5
    runtime.services.market.apply(BookSnapshot(symbol, clock.now_ms(), 1, ((price - half, 1.0),),
                                               ((price + half, 1.0),)))
    await feed_prices_to_positions(runtime.services.portfolio, runtime.services.market)


async def test_set_trail_distance_moves_the_stop_of_an_open_position(trade_chat, runtime, clock):
    await runtime.services.market_feed.stop()  # prices come only from this test from here on
    await trade_chat.send("/analyse BTCUSD")
    card = latest_card(trade_chat)
    await trade_chat.press(card, button(trade_chat, card, "EXECUTE"))
    broker, monitor = runtime.services.broker, runtime.services.portfolio.monitor
    [managed] = monitor.managed()
    sign, atr, t1, t3 = managed.direction.sign, managed.atr, managed.targets[0], managed.targets[-1]

    [reply] = [c.text for c in await trade_chat.send("/set exits.trail_atr_multiple 3")
               if isinstance(c, SendMessage)]
    assert "2 → <b>3</b>" in reply and "applies now" in reply
    await _price(runtime, clock, "BTCUSD", t1)  # target 1: partial close, stop to breakeven or trail
    runner = t1 + sign * min(4 * atr, 0.5 * abs(t3 - t1))  # further, still short of target 3
    await _price(runtime, clock, "BTCUSD", runner)

    quote = await broker.quote("BTCUSD")
    closing = quote.bid if sign > 0 else quote.ask  # where the position would close
    expected = closing - sign * 3 * atr  # 3 ATR behind the best price (the setting, not the default 2)
    breakeven = managed.entry + sign * 0.05 * atr
    assert sign * (expected - breakeven) > 0  # the trail, not breakeven, sets the stop here
    [position] = await broker.positions()
    assert position.stop_loss == expected or abs(position.stop_loss - expected) < 1e-9 * expected
    assert abs(position.stop_loss - (closing - sign * 2 * atr)) > 0.5 * atr  # not where 2 ATR would put it


async def test_set_stale_after_changes_health_without_a_restart(trade_chat, runtime, clock):
    health = runtime.services.feed_health
    await runtime.services.market_feed.stop()  # the feed goes quiet
    clock.advance(10_000)  # 10 s: over degraded_after_s (5), under stale_after_s (30)
    assert health.status("BTCUSD")[0] is HealthStatus.DEGRADED
    await trade_chat.send("/set feed.stale_after_s 5")
    status, reason = health.status("BTCUSD")
    assert status is HealthStatus.STALE, reason
    [report] = [c.text for c in await trade_chat.send("/health") if isinstance(c, SendMessage)]
    assert "BTCUSD</b> STALE" in report


async def test_a_restart_only_setting_says_so(chat, runtime):
    [reply] = [c.text for c in await chat.send("/set sim.history_days 400") if isinstance(c, SendMessage)]
    assert "after a restart" in reply
    [listing] = [c.text for c in await chat.send("/settings sim") if isinstance(c, SendMessage)]
    assert "sim.history_days</code> = <b>400</b>" in listing and "(restart to apply)" in listing
    assert runtime.tunables["sim.history_days"] == 400  # stored for the next start
