"""EXECUTE / REJECT / expiry and crash settling on the fakes: every outcome and the events it publishes."""

from __future__ import annotations

from core.approvals import ApprovalState, OrderState
from core.events import ApprovalDecided, Decision, OrderPlaced, OrderRefused, SignalIssued, Trigger
from core.fakes import canned_analysis
from core.market.price_sync import PriceSync
from core.ports import BrokerError
from core.trading import Outcome
from tests.services.conftest import PLAN, T0, make_desk


async def _issued(desk, plan=PLAN):
    desk.analyser._answers["BTCUSD"] = [canned_analysis("BTCUSD", 100.0, plan, ts_ms=T0)]
    evaluation = await desk.signals.evaluate("BTCUSD", trigger=Trigger.DEMAND)
    return await desk.signals.issue(evaluation, chat_id=7, user_id=70)


def _of(desk, kind):
    return [e for e in desk.events if isinstance(e, kind)]


async def test_execute_fills_records_and_publishes(desk):
    issued = await _issued(desk)
    assert issued.executable and issued.event.blockers == ()
    result = await desk.trading.execute(issued.approval.id, user_id=70, chat_id=7)
    assert result.outcome is Outcome.EXECUTED and result.fill is not None
    order = await desk.store.get_order(issued.approval.id)
    assert order.state is OrderState.FILLED and order.ticket == result.fill.ticket
    intent = desk.broker.placed[0]
    assert intent.volume == 50.0  # 1% of 10,000 over a 2.0 stop distance
    await desk.bus.drain()
    assert [e.trigger for e in _of(desk, SignalIssued)] == [Trigger.DEMAND]
    assert [e.decision for e in _of(desk, ApprovalDecided)] == [Decision.EXECUTE]
    [placed] = _of(desk, OrderPlaced)
    assert (placed.ticket, placed.chat_id, placed.approval_id) == (result.fill.ticket, 7, issued.approval.id)
    again = await desk.trading.execute(issued.approval.id, user_id=70, chat_id=7)
    assert again.outcome is Outcome.ALREADY and len(desk.broker.placed) == 1


async def test_broker_refusal_fails_the_card_and_says_why():
    desk = make_desk(script=[BrokerError("market closed", code=10018)])
    await desk.bus.start()
    issued = await _issued(desk)
    result = await desk.trading.execute(issued.approval.id, user_id=70, chat_id=7)
    assert result.outcome is Outcome.FAILED and result.reason == "market closed" and result.gate == "broker"
    assert (await desk.store.get_order(issued.approval.id)).state is OrderState.FAILED
    assert (await desk.store.get_approval(issued.approval.id)).state is ApprovalState.FAILED
    await desk.bus.drain()
    [refused] = _of(desk, OrderRefused)
    assert (refused.gate, refused.reason) == ("broker", "market closed")
    await desk.bus.stop()


async def test_unexpected_broker_error_leaves_an_unknown_order_that_reconcile_settles():
    desk = make_desk(script=[RuntimeError("socket reset")])
    issued = await _issued(desk)
    result = await desk.trading.execute(issued.approval.id, user_id=70, chat_id=7)
    assert result.outcome is Outcome.UNCONFIRMED
    assert (await desk.store.get_order(issued.approval.id)).state is OrderState.UNKNOWN
    notes = await desk.trading.reconcile()  # the broker has no such order
    assert "NOT placed" in notes[0]
    assert (await desk.store.get_order(issued.approval.id)).state is OrderState.FAILED
    assert (await desk.store.get_approval(issued.approval.id)).state is ApprovalState.FAILED


async def test_unexpected_error_after_a_real_fill_is_adopted_by_reconcile():
    desk = make_desk(script=[RuntimeError("reply lost")])
    issued = await _issued(desk)
    await desk.trading.execute(issued.approval.id, user_id=70, chat_id=7)
    # the order did reach the broker before the reply was lost
    await desk.broker.place(desk.broker.placed[0])
    notes = await desk.trading.reconcile()
    assert "it is now tracked" in notes[0]
    approval = await desk.store.get_approval(issued.approval.id)
    assert approval.state is ApprovalState.EXECUTED and approval.ticket is not None


async def test_no_broker_price_basis_refuses_with_the_reason():
    desk = make_desk(price_sync=PriceSync())  # an MT5-like broker whose basis has no samples yet
    issued = await _issued(desk)
    why = "the broker price basis is not calibrated yet: no broker/Binance price pairs so far"
    assert not issued.executable and why in "; ".join(issued.event.blockers)
    result = await desk.trading.execute(issued.approval.id, user_id=70, chat_id=7)
    assert result.outcome is Outcome.REFUSED and result.gate == "basis"
    assert why in result.reason and desk.broker.placed == []


async def test_a_plan_that_cannot_pass_is_issued_watch_only(desk):
    from dataclasses import replace

    issued = await _issued(desk, replace(PLAN, confidence=51.0))
    assert not issued.executable
    assert issued.event.blockers == ("confidence 51 is below the minimum 60",)


async def test_reject_and_expiry_publish_who_decided(desk):
    first = await _issued(desk)
    second = await _issued(desk)
    result = await desk.trading.reject(first.approval.id, user_id=70, chat_id=7)
    assert result.outcome is Outcome.REJECTED
    desk.clock.advance(desk.tunables["approvals.ttl_s"] * 1000 + 1)
    [expired] = await desk.trading.expire_due()
    assert expired.id == second.approval.id and expired.state is ApprovalState.EXPIRED
    await desk.bus.drain()
    decided = [(e.approval_id, e.decision, e.by_user_id) for e in _of(desk, ApprovalDecided)]
    assert decided == [(first.approval.id, Decision.REJECT, 70), (second.approval.id, Decision.EXPIRED, None)]
