"""Shadow trades, knowledge observations and optimizer proposals (JSON beside a few indexed columns)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.learning.knowledge import Observation, Status
from core.learning.optimizer import Change, Proposal, ShadowEvidence
from core.learning.outcomes import Outcome
from core.learning.records import ExitFill, Resolution, ShadowTrade, StoredProposal
from core.models import Direction, TradePlan
from db.tables import KnowledgeRow, ProposalRow, ShadowTradeRow

# ---------------------------------------------------------------------------- shadow trades


def shadow_to_row(trade: ShadowTrade) -> ShadowTradeRow:
    res = trade.resolution
    data = {
        "plan": {**dataclasses.asdict(trade.plan), "direction": trade.plan.direction.value},
        "accepted": trade.accepted, "rejection": trade.rejection, "trigger": trade.trigger, "source": trade.source,
        "entry_fill": trade.entry_fill, "expires_ts_ms": trade.expires_ts_ms, "scores": list(trade.scores),
        "available": list(trade.available), "confirmation": trade.confirmation,
        "tags": [list(t) for t in trade.tags], "screener": trade.screener, "validator": trade.validator,
        "walker": trade.walker,
        "resolution": None if res is None else {**dataclasses.asdict(res), "outcome": res.outcome.value},
    }
    return ShadowTradeRow(id=trade.id, book=trade.book, symbol=trade.symbol, signal_ts_ms=trade.signal_ts_ms,
                          approval_id=trade.approval_id, status="closed" if res else "open",
                          close_ts_ms=res.close_ts_ms if res else None, outcome=res.outcome.value if res else None,
                          r=res.r if res else None, decision=trade.decision, data_json=json.dumps(data))


def shadow_from_row(row: ShadowTradeRow) -> ShadowTrade:
    data = json.loads(row.data_json)
    plan_fields = {f.name for f in dataclasses.fields(TradePlan)}
    plan = data["plan"]
    plan = TradePlan(**{k: v for k, v in plan.items() if k in plan_fields} | {
        "direction": Direction(plan["direction"]), "targets": tuple(plan["targets"]),
        "reasons": tuple(plan.get("reasons", ()))})
    res = data["resolution"]
    resolution = None if res is None else Resolution(**res | {
        "outcome": Outcome(res["outcome"]), "exits": tuple(ExitFill(**e) for e in res["exits"])})
    return ShadowTrade(id=row.id, book=row.book, plan=plan, accepted=data["accepted"], rejection=data["rejection"],
                       trigger=data["trigger"], source=data["source"], signal_ts_ms=row.signal_ts_ms,
                       entry_fill=data["entry_fill"], expires_ts_ms=data["expires_ts_ms"],
                       scores=tuple(data["scores"]), available=tuple(data["available"]),
                       confirmation=data["confirmation"], tags=tuple((k, v) for k, v in data["tags"]),
                       approval_id=row.approval_id, decision=row.decision, screener=data["screener"],
                       validator=data["validator"], walker=data["walker"], resolution=resolution)


async def list_shadow_trades(session: AsyncSession, *, since_ts_ms: int = 0, book: str = "shadow",
                             closed: bool = True) -> list[ShadowTrade]:
    query = select(ShadowTradeRow).where(ShadowTradeRow.book == book)
    if closed:
        query = query.where(ShadowTradeRow.status == "closed", col(ShadowTradeRow.close_ts_ms) >= since_ts_ms)
    else:
        query = query.where(ShadowTradeRow.status == "open")
    rows = (await session.exec(query.order_by(ShadowTradeRow.signal_ts_ms, ShadowTradeRow.id))).all()
    return [shadow_from_row(r) for r in rows]


async def add_shadow_trades(session: AsyncSession, trades: list[ShadowTrade]) -> None:
    for trade in trades:
        await session.merge(shadow_to_row(trade))
    await session.flush()


class SqlShadowStore:
    """The shadow book's ``ShadowStore``: one short transaction per change."""

    def __init__(self, sessions: async_sessionmaker, book: str = "shadow") -> None:
        self._sessions, self._book = sessions, book

    async def add(self, trade: ShadowTrade) -> None:
        await self.save(trade)

    async def save(self, trade: ShadowTrade) -> None:
        async with self._sessions() as session, session.begin():
            await session.merge(shadow_to_row(trade))

    async def open_trades(self) -> list[ShadowTrade]:
        async with self._sessions() as session:
            return await list_shadow_trades(session, book=self._book, closed=False)

    async def update_tags(self, evaluation_id: str, changes: dict[str, Any]) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(ShadowTradeRow, evaluation_id)
            if row is not None:
                await session.merge(shadow_to_row(dataclasses.replace(shadow_from_row(row), **changes)))


# ---------------------------------------------------------------------------- knowledge


async def upsert_observations(session: AsyncSession, observations: list[Observation]) -> None:
    for o in observations:
        data = {**dataclasses.asdict(o), "status": o.status.value}
        await session.merge(KnowledgeRow(key=o.key, area=o.area, status=o.status.value,
                                         updated_ts_ms=o.updated_ts_ms, data_json=json.dumps(data)))
    await session.flush()


async def list_observations(session: AsyncSession) -> list[Observation]:
    rows = (await session.exec(select(KnowledgeRow).order_by(KnowledgeRow.area, KnowledgeRow.key))).all()
    return [Observation(**json.loads(r.data_json) | {"status": Status(r.status)}) for r in rows]


# ---------------------------------------------------------------------------- proposals


async def add_proposal(session: AsyncSession, proposal: Proposal, *, ts_ms: int, status: str = "pending") -> int:
    row = ProposalRow(created_ts_ms=ts_ms, status=status, recommended=proposal.recommended,
                      data_json=json.dumps(dataclasses.asdict(proposal)))
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


async def get_proposal(session: AsyncSession, proposal_id: int) -> StoredProposal | None:
    row = await session.get(ProposalRow, proposal_id)
    return None if row is None else _stored(row)


async def list_proposals(session: AsyncSession, *, status: str | None = None, limit: int = 10) -> list[StoredProposal]:
    query = select(ProposalRow).order_by(col(ProposalRow.id).desc()).limit(limit)
    if status:
        query = query.where(ProposalRow.status == status)
    return [_stored(r) for r in (await session.exec(query)).all()]


async def mark_proposal(session: AsyncSession, proposal_id: int, status: str, *, by: int | None, ts_ms: int) -> None:
    row = await session.get(ProposalRow, proposal_id)
    if row is not None:
        row.status, row.decided_by, row.decided_ts_ms = status, by, ts_ms
        await session.flush()


def _stored(row: ProposalRow) -> StoredProposal:
    data = json.loads(row.data_json)
    shadow = data.get("shadow")
    proposal = Proposal(**data | {"changes": tuple(Change(**c) for c in data["changes"]),
                                  "reasons": tuple(data["reasons"]),
                                  "shadow": ShadowEvidence(**shadow) if shadow else None})
    assert row.id is not None
    return StoredProposal(row.id, row.created_ts_ms, row.status, proposal, row.decided_by, row.decided_ts_ms)


class SqlLearningStore:
    """The learning service's ``LearningStore``: one short session per call."""

    def __init__(self, sessions: async_sessionmaker, book: str = "shadow") -> None:
        self._sessions, self._book = sessions, book

    async def closed_shadow_trades(self, since_ts_ms: int) -> list[ShadowTrade]:
        async with self._sessions() as session:
            return await list_shadow_trades(session, since_ts_ms=since_ts_ms, book=self._book)

    async def observations(self) -> list[Observation]:
        async with self._sessions() as session:
            return await list_observations(session)

    async def save_observations(self, observations: list[Observation]) -> None:
        async with self._sessions() as session, session.begin():
            await upsert_observations(session, observations)

    async def add_proposal(self, proposal: Proposal, ts_ms: int, status: str) -> int:
        async with self._sessions() as session, session.begin():
            return await add_proposal(session, proposal, ts_ms=ts_ms, status=status)

    async def proposals(self, status: str | None = None, limit: int = 10) -> list[StoredProposal]:
        async with self._sessions() as session:
            return await list_proposals(session, status=status, limit=limit)

    async def proposal(self, proposal_id: int) -> StoredProposal | None:
        async with self._sessions() as session:
            return await get_proposal(session, proposal_id)

    async def mark_proposal(self, proposal_id: int, status: str, by: int | None, ts_ms: int) -> None:
        async with self._sessions() as session, session.begin():
            await mark_proposal(session, proposal_id, status, by=by, ts_ms=ts_ms)
