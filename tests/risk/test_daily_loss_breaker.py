"""The daily loss circuit breaker: trips once, blocks until the next trading day, then resets."""

from __future__ import annotations

import pytest

from core.execution import ContractSpec
from core.models import Direction
from core.risk import (
    BreakerState,
    Denied,
    RiskLimits,
    TradeCheck,
    TradingState,
    check_all,
    check_daily_loss,
    daily_loss,
    next_trading_day_ms,
    trading_day_start_ms,
    update_breaker,
)

DAY = 86_400_000
HOUR = 3_600_000
MONDAY = 1_700_438_400_000  # 2023-11-20 00:00 UTC


@pytest.mark.parametrize(("realized", "open_pnl", "loss_pct", "tripped"), [
    (0.0, 0.0, 0.0, False), (-100.0, -100.0, 2.0, False), (-200.0, -110.0, 3.1, True),
    (-350.0, 50.0, 3.0, True), (500.0, -700.0, 2.0, False), (100.0, 0.0, -1.0, False),
])
def test_daily_loss_adds_realised_and_open(realized: float, open_pnl: float, loss_pct: float,
                                           tripped: bool) -> None:
    loss = daily_loss(10_000.0, realized, open_pnl, 3.0)
    assert loss.loss_pct == pytest.approx(loss_pct)
    assert loss.tripped is tripped


def test_breaker_reason_reads_like_the_issue() -> None:
    assert check_daily_loss(10_000.0, -200.0, -110.0, 3.0) == Denied("daily loss 3.1% exceeds limit 3%",
                                                                      "daily_loss")


@pytest.mark.parametrize(("now", "rollover", "start"), [
    (MONDAY + 5 * HOUR, 0, MONDAY), (MONDAY, 0, MONDAY), (MONDAY - 1, 0, MONDAY - DAY),
    (MONDAY + 23 * HOUR, 22, MONDAY + 22 * HOUR), (MONDAY + 21 * HOUR, 22, MONDAY - 2 * HOUR),
])
def test_trading_day_boundaries(now: int, rollover: int, start: int) -> None:
    assert trading_day_start_ms(now, rollover) == start
    assert next_trading_day_ms(now, rollover) == start + DAY


def test_breaker_trips_once_blocks_and_resets_next_day() -> None:
    first = update_breaker(None, now_ms=MONDAY + HOUR, equity=10_000.0, realized_pnl_today=0.0, open_pnl=0.0,
                           limit_pct=3.0)
    assert first.state == BreakerState(MONDAY, 10_000.0, 0.0, 0) and not first.tripped_now

    losing = update_breaker(first.state, now_ms=MONDAY + 2 * HOUR, equity=9_690.0, realized_pnl_today=-200.0,
                            open_pnl=-110.0, limit_pct=3.0)
    assert losing.tripped_now and losing.state.halted(MONDAY + 2 * HOUR)
    assert losing.state.halted_until_ms == MONDAY + DAY
    assert losing.loss.describe() == "daily loss 3.1% exceeds limit 3%"

    still = update_breaker(losing.state, now_ms=MONDAY + 3 * HOUR, equity=9_600.0, realized_pnl_today=-400.0,
                           open_pnl=0.0, limit_pct=3.0)
    assert not still.tripped_now and still.state.halted(MONDAY + 3 * HOUR)  # alert pushed only once

    recovered = update_breaker(still.state, now_ms=MONDAY + 8 * HOUR, equity=10_100.0,
                               realized_pnl_today=100.0,
                               open_pnl=0.0, limit_pct=3.0)
    assert recovered.state.halted(MONDAY + 8 * HOUR)  # a recovery does not lift the halt the same day

    tuesday = update_breaker(recovered.state, now_ms=MONDAY + DAY + 60_000, equity=9_600.0,
                             realized_pnl_today=0.0, open_pnl=-50.0, limit_pct=3.0)
    assert not tuesday.state.halted(MONDAY + DAY + 60_000)
    assert tuesday.state == BreakerState(MONDAY + DAY, 9_600.0, -50.0, 0)


def test_open_loss_carried_into_the_day_does_not_count_again() -> None:
    state = BreakerState(MONDAY, start_equity=9_500.0, start_open_pnl=-500.0)
    update = update_breaker(state, now_ms=MONDAY + HOUR, equity=9_400.0, realized_pnl_today=0.0,
                            open_pnl=-600.0,
                            limit_pct=3.0)
    assert update.loss.loss_pct == pytest.approx(100.0 / 9_500.0 * 100.0)
    assert not update.tripped_now


def test_a_new_days_baseline_excludes_closes_already_made_today() -> None:
    update = update_breaker(None, now_ms=MONDAY + 4 * HOUR, equity=9_700.0, realized_pnl_today=-300.0,
                            open_pnl=0.0, limit_pct=3.0)
    assert update.state.start_equity == 10_000.0
    assert update.tripped_now  # 300 of 10,000 already lost today


def test_a_tripped_breaker_blocks_the_trade_in_check_all() -> None:
    spec = ContractSpec("EURUSD", digits=5, contract_size=100_000.0, volume_min=0.01, volume_max=50.0,
                      volume_step=0.01)
    base = dict(symbol="EURUSD", direction=Direction.LONG, confidence=80.0, entry=1.1001, stop=1.0950,
                card_price=1.10005, bid=1.1000, ask=1.1001, equity=9_690.0, spec=spec, start_equity=10_000.0,
                quote_to_account=1.0)

    report = check_all(TradeCheck(**base, realized_pnl_today=-200.0, open_pnl_today=-110.0), RiskLimits())
    halted = check_all(TradeCheck(**base, trading_state=TradingState.HALTED,
                                  halted_reason="daily loss 3.1% exceeds limit 3%"), RiskLimits())

    assert not report.allowed
    assert [d.gate for d in report.denials] == ["daily_loss"]
    assert report.summary() == "daily loss 3.1% exceeds limit 3%"
    assert [d.reason for d in halted.denials] == ["trading is halted: daily loss 3.1% exceeds limit 3%"]
