"""One fill model: the paper broker, the shadow book and the backtester fill through the same rules."""

from __future__ import annotations

import numpy as np
import pytest

from core.brokers.paper import PaperBroker, PaperParams
from core.exits import ExitParams
from core.fills import TUNABLES, FillModel
from core.learning.resolver import TradeWalker, entry_fill
from core.models import Direction, OrderIntent, TradePlan
from core.ports import FixedClock
from core.tunables import TunableValues

approx = pytest.approx
PLAN = TradePlan(symbol="BTCUSD", direction=Direction.LONG, entry=100.0, stop=98.0, targets=(102.0, 104.0, 106.0),
                 risk_reward=2.0, confidence=70.0, setup_type="breakout", timeframe="1h", atr=1.0)


async def test_the_paper_broker_fills_and_charges_like_the_model() -> None:
    params = PaperParams(spread_bps=20.0, slippage_bps=10.0, fee_bps=10.0)
    model = params.fill_model()
    prices = {"BTCUSD": (100.0, 100.0)}
    broker = PaperBroker(prices.get, FixedClock(), None, params)
    fill = await broker.place(OrderIntent("BTCUSD", Direction.LONG, 2.0))
    assert fill.price == approx(entry_fill(PLAN, model))  # the shadow book's entry at the same price
    prices["BTCUSD"] = (104.0, 104.0)
    closed = await broker.close(fill.ticket)
    exit_price = model.market_exit(Direction.LONG, *model.quote_at("BTCUSD", 104.0))
    assert closed.price == approx(exit_price)
    fees = 0.001 * fill.price * 2 + 0.001 * exit_price * 2  # 10 bps of each leg's notional
    assert closed.realized_pnl == approx((exit_price - fill.price) * 2 - fees)


def test_array_quotes_equal_scalar_quotes() -> None:
    prices = np.array([0.5, 99.99, 101.37, 31_456.78])
    for model in (FillModel(spread_bps=3.0), FillModel(spread_bps=0.0), FillModel(spread_abs_by_symbol={"X": 0.2})):
        bids, asks = model.quote_arrays("X", prices)
        assert [tuple(q) for q in zip(bids, asks, strict=True)] == [model.quote_at("X", float(p)) for p in prices]


@pytest.mark.parametrize("name", ["fills.spread_bps", "fills.slippage_bps", "fills.fee_bps"])
def test_each_fill_setting_costs_the_shadow_trade_more(name) -> None:
    values = TunableValues(TUNABLES)

    def r_of_a_target_run() -> float:
        fills = FillModel.from_values(values.snapshot())
        walker = TradeWalker(PLAN, entry_price=entry_fill(PLAN, fills), opened_ts_ms=0, fills=fills,
                             params=ExitParams())
        walker.step(300_000, 100.0, 106.5, 99.5, 106.2)
        return walker.resolution().r

    before = r_of_a_target_run()
    values.set(name, "50")
    assert r_of_a_target_run() < before - 0.01
