"""Gate tables: each gate's Allowed/Denied and its reason."""

from __future__ import annotations

from dataclasses import fields
from enum import Enum

import pytest

from core.execution import ContractSpec
from core.risk import (
    TUNABLES,
    Allowed,
    Denied,
    RiskLimits,
    Sizing,
    TradingState,
    check_confidence,
    check_feed_health,
    check_open_positions,
    check_price_drift,
    check_spread,
    check_trading_state,
    position_size,
)
from core.tunables import TunableValues


class FeedStatus(Enum):  # what a feed-health module might hand over
    OK = "ok"
    DEGRADED = "degraded"
    STALE = "stale"


@pytest.mark.parametrize(("confidence", "minimum", "reason"), [
    (75.0, 60.0, None), (60.0, 60.0, None), (59.9, 60.0, "confidence 59.9 is below the minimum 60"),
])
def test_min_confidence(confidence: float, minimum: float, reason: str | None) -> None:
    result = check_confidence(confidence, minimum)
    assert result == (Allowed("confidence") if reason is None else Denied(reason, "confidence"))


@pytest.mark.parametrize(("state", "paused", "reduces", "reason"), [
    (TradingState.ACTIVE, False, False, None),
    (TradingState.ACTIVE, True, False, "trading is paused by an admin (/resume to restart)"),
    (TradingState.HALTED, False, False, "trading is halted: daily loss 3.2% exceeds limit 3%"),
    (TradingState.HALTED, False, True, "trading is halted: daily loss 3.2% exceeds limit 3%"),
    (TradingState.REDUCING, False, False,
     "trading is reducing exposure: only trades that close or shrink positions"),
    (TradingState.REDUCING, False, True, None),
])
def test_trading_state_and_pause(state: TradingState, paused: bool, reduces: bool,
                                 reason: str | None) -> None:
    result = check_trading_state(state, paused, reduces_exposure=reduces,
                                 halted_reason="daily loss 3.2% exceeds limit 3%")
    assert result.allowed is (reason is None)
    if reason:
        assert result == Denied(reason, "trading_state")


@pytest.mark.parametrize(("open_count", "limit", "allowed"), [(0, 3, True), (2, 3, True), (3, 3, False),
                                                               (5, 3, False), (0, 0, False)])
def test_max_open_positions(open_count: int, limit: int, allowed: bool) -> None:
    result = check_open_positions(open_count, limit)
    assert result.allowed is allowed
    if not allowed:
        assert result == Denied(f"{open_count} positions are open; the limit is {limit}", "open_positions")


@pytest.mark.parametrize(("status", "allow_degraded", "reason"), [
    ("OK", True, None), (FeedStatus.OK, True, None), ("degraded", True, None),
    (FeedStatus.DEGRADED, False, "the price feed is degraded; trading waits until it recovers"),
    ("STALE", True, "the price feed is stale; no trading until it recovers"),
    (FeedStatus.STALE, True, "the price feed is stale; no trading until it recovers"),
    ("gone", True, "the price feed status is unknown (gone)"),
])
def test_stale_feed_blocks(status: str | Enum, allow_degraded: bool, reason: str | None) -> None:
    result = check_feed_health(status, allow_degraded=allow_degraded)
    assert result.allowed is (reason is None)
    if reason:
        assert result == Denied(reason, "feed")


def test_degraded_feed_is_noted_when_allowed() -> None:
    assert check_feed_health("DEGRADED") == Allowed("feed", "price feed is degraded")


@pytest.mark.parametrize(("bid", "ask", "limit", "reason"), [
    (100.0, 100.1, 15.0, None),  # 10.0 bps
    (100.0, 100.2, 15.0, "spread 20.0 bps exceeds limit 15 bps"),
    (100.0, 99.0, 15.0, "no valid quote (bid 100, ask 99)"),
    (0.0, 1.0, 15.0, "no valid quote (bid 0, ask 1)"),
])
def test_spread_limit(bid: float, ask: float, limit: float, reason: str | None) -> None:
    result = check_spread(bid, ask, limit)
    assert result == (Allowed("spread") if reason is None else Denied(reason, "spread"))


@pytest.mark.parametrize(("now", "kwargs", "reason"), [
    (100.2, {"max_drift_bps": 30.0}, None),
    (100.4, {"max_drift_bps": 30.0}, "price moved 40.0 bps since the card (limit 30 bps)"),
    (99.6, {"max_drift_bps": 30.0}, "price moved 40.0 bps since the card (limit 30 bps)"),
    (100.4, {"max_drift_bps": 0.0}, None),  # 0 switches a limit off
    (100.6, {"atr": 1.0, "max_drift_atr": 0.5}, "price moved 0.60 ATR since the card (limit 0.5 ATR)"),
    (100.4, {"atr": 1.0, "max_drift_atr": 0.5}, None),
])
def test_price_drift_since_the_card(now: float, kwargs: dict, reason: str | None) -> None:
    result = check_price_drift(100.0, now, **kwargs)
    assert result == (Allowed("drift") if reason is None else Denied(reason, "drift"))


EURUSD = ContractSpec("EURUSD", digits=5, contract_size=100_000.0, volume_min=0.01, volume_max=5.0,
                      volume_step=0.01)
BTCUSD = ContractSpec("BTCUSD", digits=2, contract_size=1.0, volume_min=0.001, volume_max=10.0,
                      volume_step=0.001)


@pytest.mark.parametrize(("equity", "risk_pct", "entry", "stop", "spec", "volume"), [
    (10_000.0, 1.0, 1.10000, 1.09500, EURUSD, 0.20),  # 100 USD / (0.005 * 100k) = 0.2 lots
    (10_000.0, 1.0, 1.10000, 1.09700, EURUSD, 0.33),  # 0.333.. rounded down
    (10_000.0, 1.0, 60_000.0, 61_500.0, BTCUSD, 0.066),  # short: 100 / 1500 = 0.0666..
    (1_000_000.0, 2.0, 1.10000, 1.09900, EURUSD, 5.0),  # 20 lots wanted, capped at the maximum
])
def test_position_size_within_broker_limits(equity: float, risk_pct: float, entry: float, stop: float,
                                           spec: ContractSpec, volume: float) -> None:
    sizing = position_size(equity, risk_pct, entry, stop, spec, quote_to_account=1.0)
    assert isinstance(sizing, Sizing)
    assert sizing.volume == volume
    assert sizing.risk_account == pytest.approx(volume * abs(entry - stop) * spec.contract_size)
    assert sizing.risk_pct <= risk_pct + 1e-9


def test_size_below_the_broker_minimum_is_denied() -> None:
    sizing = position_size(100.0, 1.0, 1.10000, 1.09000, EURUSD, quote_to_account=1.0)  # 1 USD at risk; 0.01 lots risks 10 USD
    assert sizing == Denied("size 0.001 is below the broker minimum 0.01 for EURUSD: the minimum would risk "
                            "10.00% (limit 1%)", "size")


def test_size_converts_the_quote_currency() -> None:
    usdjpy = ContractSpec("USDJPY", digits=3, contract_size=100_000.0, volume_min=0.01, volume_max=50.0,
                        volume_step=0.01)
    sizing = position_size(10_000.0, 1.0, 150.000, 149.000, usdjpy, quote_to_account=1 / 150.0)
    assert isinstance(sizing, Sizing) and sizing.volume == 0.15  # 100 USD / (1 JPY * 100k / 150)


@pytest.mark.parametrize(("entry", "stop", "equity"), [(1.1, 1.1, 10_000.0), (1.1, 1.0, 0.0)])
def test_size_needs_a_stop_distance_and_equity(entry: float, stop: float, equity: float) -> None:
    assert isinstance(position_size(equity, 1.0, entry, stop, EURUSD, quote_to_account=1.0), Denied)


def test_limits_follow_the_risk_tunables() -> None:
    values = TunableValues(TUNABLES)
    assert {f"risk.{f.name}" for f in fields(RiskLimits)} == {t.name for t in TUNABLES}
    assert RiskLimits.from_values(values.snapshot()) == RiskLimits()
    values.set("risk.max_open_positions", "5")
    values.set("risk.allow_degraded_feed", "no")
    assert RiskLimits.from_values(values.snapshot()) == RiskLimits(max_open_positions=5, allow_degraded_feed=False)


def test_the_size_gate_refuses_without_a_rate_and_says_why() -> None:
    from core.models import Direction
    from core.risk import TradeCheck, check_all

    gbpjpy = ContractSpec("GBPJPY", digits=3, contract_size=100_000.0, volume_min=0.01, volume_max=50.0,
                          volume_step=0.01)
    check = TradeCheck(symbol="GBPJPY", direction=Direction.LONG, confidence=80.0, entry=190.0, stop=189.5,
                       card_price=190.0, bid=189.99, ask=190.01, equity=10_000.0, spec=gbpjpy, start_equity=10_000.0,
                       rate_problem="cannot convert JPY to USD: no USDJPY price yet")
    report = check_all(check, RiskLimits())
    assert report.sizing is None
    assert report.summary() == "cannot size GBPJPY: cannot convert JPY to USD: no USDJPY price yet"
