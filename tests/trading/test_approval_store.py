"""The approval store on SQLite and on the CI PostgreSQL: compare-and-set and one order per card."""

import asyncio

import pytest

from core.approvals import Approval, ApprovalState, JournalEntry, OrderRecord, OrderState
from core.models import Direction, TradePlan
from db.approvals import SqlApprovalStore
from db.engine import make_engine, make_sessions
from db.migrate import upgrade

PLAN = TradePlan(symbol="BTCUSD", direction=Direction.LONG, entry=100.0, stop=95.0, targets=(105.0, 110.0, 115.0),
                 risk_reward=2.0, confidence=70.0, setup_type="breakout", timeframe="1h", atr=2.0)


def _approval(approval_id: str) -> Approval:
    return Approval(id=approval_id, plan=PLAN, card_price=100.0, source="SIMULATED",
                    chat_id=7, requested_by=7, state=ApprovalState.PENDING, created_ts_ms=1, expires_ts_ms=10)


async def _exercise(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        store = SqlApprovalStore(make_sessions(engine))
        await store.add_approval(_approval("a1"))
        assert (await store.get_approval("a1")).plan == PLAN

        # two presses at once: exactly one claims the card
        results = await asyncio.gather(*(store.transition("a1", (ApprovalState.PENDING,), ApprovalState.EXECUTING,
                                                          decided_by=n) for n in range(5)))
        winners = [r for r in results if r is not None]
        assert len(winners) == 1 and winners[0].state is ApprovalState.EXECUTING

        order = OrderRecord("a1", "BTCUSD", Direction.LONG, 0.1, OrderState.SUBMITTING, stop_loss=95.0)
        assert await store.add_order(order, gates={"allowed": True}, basis={}, ts_ms=2) is True
        assert await store.add_order(order, gates={}, basis={}, ts_ms=3) is False  # the unique approval id
        await store.update_order("a1", OrderState.FILLED, 4, ticket=9, fill_price=100.5)
        assert (await store.get_order("a1")).ticket == 9
        done = await store.transition("a1", (ApprovalState.EXECUTING,), ApprovalState.EXECUTED, ticket=9)
        assert done.ticket == 9 and (await store.approval_for_ticket(9)).id == "a1"
        assert await store.list_orders((OrderState.SUBMITTING,)) == []
        await store.add_journal(JournalEntry(ts_ms=5, kind="fill", text="filled", symbol="BTCUSD", approval_id="a1"))
        with pytest.raises(ValueError):
            await store.transition("a1", (ApprovalState.EXECUTED,), ApprovalState.EXPIRED, state="x")
    finally:
        await engine.dispose()


async def test_store_on_sqlite(tmp_path):
    await _exercise(f"sqlite+aiosqlite:///{tmp_path}/s.db")


@pytest.mark.postgres
async def test_store_on_postgres(postgres_database):
    await _exercise(postgres_database)
