"""The resolver walks scripted price paths with the live exit rules: stop first, target first, both in one
candle (the stop wins), expiry, partial-then-trail, gaps, and the costs of the fill model."""

from __future__ import annotations

import pytest

from core.exits import ExitParams
from core.fills import FillModel
from core.learning.outcomes import Outcome
from core.learning.resolver import TradeWalker, entry_fill
from core.models import Direction, TradePlan

T0 = 1_700_000_000_000
M5 = 300_000
FREE = FillModel(spread_bps=0.0, slippage_bps=0.0, fee_bps=0.0)
approx = pytest.approx


def plan(direction: Direction = Direction.LONG, *, entry: float = 100.0, stop: float = 98.0,
         targets: tuple[float, ...] = (102.0, 104.0, 106.0), atr: float = 1.0) -> TradePlan:
    return TradePlan(symbol="BTCUSD", direction=direction, entry=entry, stop=stop, targets=targets,
                     risk_reward=2.0, confidence=70.0, setup_type="breakout", timeframe="1h", atr=atr)


def walk(p: TradePlan, bars: list[tuple[float, float, float, float]], *, fills: FillModel = FREE,
         params: ExitParams = ExitParams(), expire: bool = True):
    walker = TradeWalker(p, entry_price=entry_fill(p, fills), opened_ts_ms=T0, fills=fills, params=params)
    for i, (o, h, low, c) in enumerate(bars):
        if walker.step(T0 + (i + 1) * M5, o, h, low, c):
            break
    if expire and not walker.closed:
        walker.expire(T0 + len(bars) * M5, fills.quote_at(p.symbol, bars[-1][3])[0 if p.direction.sign > 0 else 1])
    return walker.resolution()


def test_stop_first_is_a_loss_of_one_r() -> None:
    res = walk(plan(), [(100, 100.5, 99.0, 99.5), (99.5, 99.8, 97.5, 97.8), (97.8, 107, 97.8, 106)])
    assert res.outcome is Outcome.LOSS and res.reason == "stop loss"
    assert res.r == approx(-1.0) and res.exit_price == 98.0  # at the stop, not the low
    assert res.close_ts_ms == T0 + 2 * M5


def test_target_first_then_the_runner() -> None:
    # T1 at 102 closes half and moves the stop to breakeven + 0.05 ATR; T2 at 104 half of the rest; T3 106 the rest
    res = walk(plan(), [(100, 102.5, 99.5, 102.2), (102.2, 104.1, 102.0, 104.0), (104, 106.5, 103.9, 106.2)])
    assert res.outcome is Outcome.WIN and res.reason == "target 3"
    assert [(e.share, e.price, e.reason) for e in res.exits] == [
        (0.5, 102.0, "target 1"), (0.25, 104.0, "target 2"), (0.25, 106.0, "target 3")]
    assert res.r == approx(0.5 * 1 + 0.25 * 2 + 0.25 * 3)


def test_a_candle_touching_both_stop_and_target_is_a_loss() -> None:
    res = walk(plan(), [(100, 102.5, 97.9, 101.0)])
    assert res.outcome is Outcome.LOSS and res.r == approx(-1.0) and len(res.exits) == 1


def test_short_mirrors_the_rule() -> None:
    short = plan(Direction.SHORT, stop=102.0, targets=(98.0, 96.0, 94.0))
    res = walk(short, [(100, 102.1, 97.5, 99.0)])
    assert res.outcome is Outcome.LOSS and res.exit_price == 102.0
    won = walk(short, [(100, 100.5, 97.9, 98.2), (98.2, 98.5, 95.9, 96.5), (96.5, 96.6, 93.0, 93.5)])
    assert won.reason == "target 3" and won.r == approx(0.5 * 1 + 0.25 * 2 + 0.25 * 3)


def test_expiry_closes_at_the_last_price() -> None:
    res = walk(plan(), [(100, 100.8, 99.5, 100.4), (100.4, 101.0, 100.0, 100.6)])
    assert res.outcome is Outcome.EXPIRED and res.reason == "expired"
    assert res.exit_price == 100.6 and res.r == approx(0.3)


def test_partial_then_trail() -> None:
    # after T1 (102) the stop trails 2 ATR behind the best close-side price; the best reaches 103.9,
    # so the stop sits at 101.9, and the fall to 101 takes the runner out there
    res = walk(plan(), [(100, 102.3, 99.8, 102.1), (102.1, 103.9, 102.0, 103.5), (103.5, 103.6, 101.0, 101.2)])
    assert [(e.share, e.reason) for e in res.exits] == [(0.5, "target 1"), (0.5, "trailing stop")]
    assert res.exits[1].price == approx(101.9)
    assert res.r == approx(0.5 * 1.0 + 0.5 * 0.95)
    assert res.outcome is Outcome.WIN and res.max_favourable_r == approx(1.95)


def test_breakeven_after_target_one() -> None:
    res = walk(plan(), [(100, 102.2, 99.9, 101.0), (101.0, 101.2, 99.0, 99.5)],
               params=ExitParams(trailing_enabled=False))
    assert [(e.share, e.price) for e in res.exits] == [(0.5, 102.0), (0.5, approx(100.05))]
    assert res.r == approx(0.5 + 0.5 * 0.025)


def test_gap_through_the_stop_fills_at_the_open() -> None:
    res = walk(plan(), [(100, 100.2, 99.5, 99.9), (96.0, 96.5, 95.0, 96.2)])
    assert res.exit_price == 96.0 and res.r == approx(-2.0)


def test_time_stop_from_the_exit_settings() -> None:
    bars = [(100, 100.5, 99.5, 100.2)] * 20
    res = walk(plan(), bars, params=ExitParams(time_stop_minutes=30))
    assert res.reason == "time stop" and res.close_ts_ms == T0 + 6 * M5


def test_costs_come_from_the_fill_model() -> None:
    costly = FillModel(spread_bps=20.0, slippage_bps=10.0, fee_bps=10.0)
    res = walk(plan(), [(100, 100.5, 97.0, 97.5)], fills=costly)
    entry = 100.1 * 1.001  # ask of a 20 bps spread, then 10 bps slippage
    exit_ = 98.0 * 0.999  # the bid reached the stop, then slippage
    pnl = exit_ - entry - 0.001 * entry - 0.001 * exit_
    assert res.entry_price == approx(entry) and res.exit_price == approx(exit_)
    assert res.r == approx(pnl / 2.0) and res.r < -1.1
