"""WAIT re-checks with canned analyses: each outcome exactly, never "one of three"."""

from __future__ import annotations

from dataclasses import replace

from core.analysis_service import NotReady
from core.approvals import ApprovalState
from core.events import SignalIssued, Trigger, WaitOutcome, WaitResolved
from core.fakes import canned_analysis
from core.models import Direction
from core.wait_rechecks import WaitRechecks
from tests.services.conftest import PLAN, T0

MINUTE = 60_000


async def _waiting(desk):
    desk.analyser._answers["BTCUSD"] = [canned_analysis("BTCUSD", 100.0, PLAN, ts_ms=T0)]
    evaluation = await desk.signals.evaluate("BTCUSD", trigger=Trigger.DEMAND)
    issued = await desk.signals.issue(evaluation, chat_id=7, user_id=70)
    await desk.trading.wait(issued.approval.id, user_id=70, chat_id=7)
    return issued.approval.id


def _rechecks(desk, price=None):
    return WaitRechecks(trading=desk.trading, signals=desk.signals, bus=desk.bus, price_of=lambda _s: price)


async def test_still_valid_supersedes_the_card_with_a_fresh_one(desk):
    approval_id = await _waiting(desk)
    desk.analyser._answers["BTCUSD"] = [canned_analysis("BTCUSD", 100.5, replace(PLAN, entry=100.5), ts_ms=T0)]
    desk.clock.advance(10 * MINUTE + 1)  # the first of 3 re-checks over 30 min
    assert await _rechecks(desk).run() == 1
    assert (await desk.store.get_approval(approval_id)).state is ApprovalState.SUPERSEDED
    await desk.bus.drain()
    [resolved] = [e for e in desk.events if isinstance(e, WaitResolved)]
    assert resolved.outcome is WaitOutcome.STILL_VALID
    fresh = [e for e in desk.events if isinstance(e, SignalIssued) and e.trigger is Trigger.WAIT]
    assert [e.approval_id for e in fresh] == [resolved.new_approval_id]
    assert fresh[0].parent_id == approval_id and fresh[0].plan.entry == 100.5


async def test_not_due_yet_is_not_checked(desk):
    await _waiting(desk)
    desk.clock.advance(5 * MINUTE)
    assert await _rechecks(desk, price=103.0).run() == 0  # neither time nor price says so


async def test_price_at_the_entry_checks_at_once(desk):
    approval_id = await _waiting(desk)
    desk.analyser._answers["BTCUSD"] = [canned_analysis("BTCUSD", 100.1, PLAN, ts_ms=T0)]
    assert await _rechecks(desk, price=100.1).run() == 1  # within 0.25 ATR of the entry
    assert (await desk.store.get_approval(approval_id)).state is ApprovalState.SUPERSEDED


async def test_a_turned_setup_counts_down_then_invalidates(desk):
    approval_id = await _waiting(desk)
    short = replace(PLAN, direction=Direction.SHORT, stop=102.0, targets=(98.0, 96.0, 94.0))
    desk.analyser._answers["BTCUSD"] = [canned_analysis("BTCUSD", 100.0, short, ts_ms=T0)]
    for left in (2, 1):
        desk.clock.advance(10 * MINUTE + 1)
        await _rechecks(desk).run()
        approval = await desk.store.get_approval(approval_id)
        assert approval.state is ApprovalState.WAITING and approval.wait_checks_left == left
    desk.clock.advance(10 * MINUTE + 1)
    await _rechecks(desk).run()
    approval = await desk.store.get_approval(approval_id)
    assert approval.state is ApprovalState.INVALIDATED and "turned short" in approval.note
    await desk.bus.drain()
    [resolved] = [e for e in desk.events if isinstance(e, WaitResolved)]
    assert (resolved.outcome, resolved.reason) == (WaitOutcome.INVALIDATED, "the setup turned short")


async def test_missing_data_counts_as_a_failed_recheck(desk):
    approval_id = await _waiting(desk)
    desk.analyser._answers["BTCUSD"] = [NotReady("BTCUSD: no 1h history")]
    desk.clock.advance(10 * MINUTE + 1)
    await _rechecks(desk).run()
    approval = await desk.store.get_approval(approval_id)
    assert approval.state is ApprovalState.WAITING and approval.wait_checks_left == 2
