"""Learning storage through the migrations: shadow trades round-trip (open and closed), knowledge rows,
proposals with their status; on SQLite and, when it answers, PostgreSQL."""

from __future__ import annotations

import pytest

from core.events import SignalEvaluated
from core.exits import ExitParams
from core.fills import FillModel
from core.learning.knowledge import update_knowledge
from core.learning.optimizer import Change, Proposal
from core.learning.shadow import ShadowBook, ShadowParams
from core.learning.slices import slice_report
from db.engine import make_engine, make_sessions
from db.learning import (
    SqlShadowStore,
    add_proposal,
    get_proposal,
    list_observations,
    list_proposals,
    list_shadow_trades,
    mark_proposal,
    upsert_observations,
)
from db.migrate import upgrade
from tests.learning.results import series

PROPOSAL = Proposal(changes=(Change("risk.min_confidence", 60.0, 75.0),), objective="expectancy", current_oos=0.05,
                    proposed_oos=0.31, improvement=0.26, low=0.1, high=0.4, trades_current=400, trades_proposed=120,
                    deflated_sharpe=0.99, oos_deflated_sharpe=0.97, trials=40, folds=3, shadow=None,
                    recommended=True, reasons=("out-of-sample expectancy +0.050 -> +0.310 over 120 trades",))


async def _round_trip(url: str, signal: tuple[SignalEvaluated, object]) -> None:
    event, after = signal
    engine = make_engine(url)
    try:
        await upgrade(engine)
        sessions = make_sessions(engine)
        store = SqlShadowStore(sessions)
        book = ShadowBook(store, fills=FillModel, exits=ExitParams, params=ShadowParams)
        opened = await book.on_evaluated(event)
        [loaded] = await store.open_trades()
        assert loaded == opened
        middle = int(after.open_time_ms[5])
        await book.advance(event.symbol, middle, minutes=after)
        resumed = ShadowBook(store, fills=FillModel, exits=ExitParams, params=ShadowParams)
        assert await resumed.load() == len(book.open_trades())
        closed = await resumed.advance(event.symbol, int(after.open_time_ms[-1]), minutes=after)
        async with sessions() as session:
            stored = await list_shadow_trades(session)
        assert closed == [] or stored == closed
        await store.update_tags(event.evaluation_id, {"decision": "execute"})
        async with sessions() as session:
            [again] = await list_shadow_trades(session)
        assert again.decision == "execute" and again.result().tag("decision") == "execute"

        knowledge = update_knowledge([], slice_report(series([0.8, 1.1, 0.9, 1.2] * 10, setup_type="breakout")
                                                      + series([-1.0, 0.2] * 20, setup_type="range")), 5)
        async with sessions() as session, session.begin():
            await upsert_observations(session, knowledge)
            proposal_id = await add_proposal(session, PROPOSAL, ts_ms=7)
        async with sessions() as session, session.begin():
            assert await list_observations(session) == sorted(knowledge, key=lambda o: (o.area, o.key))
            await mark_proposal(session, proposal_id, "applied", by=111, ts_ms=9)
        async with sessions() as session:
            stored_proposal = await get_proposal(session, proposal_id)
            assert stored_proposal.proposal == PROPOSAL and stored_proposal.status == "applied"
            assert [p.id for p in await list_proposals(session, status="applied")] == [proposal_id]
    finally:
        await engine.dispose()


async def test_sqlite(tmp_path, signal) -> None:
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path}/l.db", signal)


@pytest.mark.postgres
async def test_postgres(postgres_database, signal) -> None:
    await _round_trip(postgres_database, signal)
