"""EXECUTE on MT5 before the price basis is calibrated says so (and how far along it is), never
"price moved N bps"; once the job has paired enough quotes the drift is measured in Binance terms."""

from __future__ import annotations

from dataclasses import replace

from bot.execution import build_money
from core.brokers.mt5 import Mt5Broker, Mt5Settings
from core.events import Trigger
from core.fakes import CannedAnalyser, canned_analysis
from core.market.price_sync import PriceSync
from core.signals import SignalService
from core.trading import Outcome, TradingService
from jobs.trading import record_broker_quotes
from tests.brokers.fake_mt5 import FakeMt5, loader_for
from tests.conftest import ADMIN_ID, warm_market

SYMBOL = "XAUUSD"
PREMIUM = 1.37  # broker prices 37 % above Binance's: what an uncalibrated drift check calls a 3,700 bps move


def broker_tick(fake: FakeMt5, market, clock) -> None:
    price = market.tick(SYMBOL).price * PREMIUM
    fake.set_tick(SYMBOL, round(price - 0.10, 2), round(price + 0.10, 2))
    fake.ts_ms = clock.now_ms()


async def mt5_trading(runtime, clock) -> tuple[TradingService, FakeMt5, PriceSync]:
    runtime.tunables.set("signal.direction_threshold", 0)  # every card has a direction, so a plan
    fake = FakeMt5(balance=100_000.0)
    fake.add_symbol(SYMBOL, bid=1.0, ask=1.0, digits=2, contract_size=100.0)
    money = build_money(runtime.foundation, runtime.services.symbol_map, runtime.services.market)
    broker = Mt5Broker(Mt5Settings(magic=7), module_loader=loader_for(fake), clock=clock,  # type: ignore[arg-type]
                       money=money)
    await broker.connect()
    paper: TradingService = runtime.services.trading
    sync = PriceSync()
    trading = TradingService(store=paper.store, broker=broker, market=runtime.services.market,
                             health=runtime.services.feed_health, price_sync=sync, guard=paper.guard,
                             tunables=runtime.tunables, clock=clock, bus=runtime.services.bus, money=money)
    return trading, fake, sync


async def card(trading: TradingService, runtime, market) -> str:
    """A card for the real analysis' plan, issued the one way cards are (the signal use case)."""
    analysis = runtime.services.analysis_service.analyse(SYMBOL)
    plan = analysis.plan or analysis.candidate_plan
    plan = replace(plan, confidence=90.0)  # the confidence gate is not what this test is about
    price = market.tick(SYMBOL).price
    signals = SignalService(analysis=CannedAnalyser({SYMBOL: [canned_analysis(SYMBOL, price, plan)]}),
                            store=trading.store, bus=runtime.services.bus, clock=runtime.clock,
                            tunables=runtime.tunables)
    evaluation = await signals.evaluate(SYMBOL, trigger=Trigger.DEMAND)
    issued = await signals.issue(evaluation, chat_id=ADMIN_ID, user_id=ADMIN_ID)
    await signals.close()
    return issued.approval.id


async def test_execute_before_calibration_says_so_and_how_far_along(runtime, clock):
    warm_market(runtime, clock)
    market = runtime.services.market
    trading, fake, sync = await mt5_trading(runtime, clock)
    broker_tick(fake, market, clock)

    first = await trading.execute(await card(trading, runtime, market), user_id=ADMIN_ID, chat_id=ADMIN_ID)
    assert not first.ok and "bps" not in first.reason
    assert "broker price basis is not calibrated yet: no broker/Binance price pairs so far" in first.reason

    for _ in range(7):  # the job pairs a quote every second
        warm_market(runtime, clock, seconds=1)
        broker_tick(fake, market, clock)
        await record_broker_quotes(sync, trading.broker, market)
    seven = await trading.execute(await card(trading, runtime, market), user_id=ADMIN_ID, chat_id=ADMIN_ID)
    assert "not calibrated yet: 7 of 20 broker/Binance price pairs, about 13 s more" in seven.reason, seven.reason
    assert "moved" not in seven.reason

    for _ in range(13):
        warm_market(runtime, clock, seconds=1)
        broker_tick(fake, market, clock)
        await record_broker_quotes(sync, trading.broker, market)
    assert sync.basis_problem(SYMBOL, clock.now_ms()) == ""
    approval_id = await card(trading, runtime, market)
    approval = await trading.store.get_approval(approval_id)
    report, _ = await trading.gates(approval.plan, approval.card_price)
    drift = next(r for r in report.results if r.gate == "drift")
    assert drift.allowed, drift  # the 37 % premium is the basis, not a move
    done = await trading.execute(approval_id, user_id=ADMIN_ID, chat_id=ADMIN_ID)
    assert done.outcome is Outcome.EXECUTED and done.fill is not None, done.reason


async def test_a_real_move_after_calibration_is_still_refused(runtime, clock):
    warm_market(runtime, clock)
    market = runtime.services.market
    trading, fake, sync = await mt5_trading(runtime, clock)
    for _ in range(20):
        warm_market(runtime, clock, seconds=1)
        broker_tick(fake, market, clock)
        await record_broker_quotes(sync, trading.broker, market)
    approval_id = await card(trading, runtime, market)
    price = market.tick(SYMBOL).price * PREMIUM * 1.01  # the broker moved 1 % (100 bps) since the card
    fake.set_tick(SYMBOL, round(price - 0.10, 2), round(price + 0.10, 2))
    approval = await trading.store.get_approval(approval_id)
    report, _ = await trading.gates(approval.plan, approval.card_price)
    drift = next(r for r in report.results if r.gate == "drift")
    assert not drift.allowed and "price moved 100." in drift.reason, drift
