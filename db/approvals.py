"""The ApprovalStore port over SQL: approvals, orders (unique per approval) and the journal.

Unlike handler reads/writes, each method here commits at once in its own short transaction:
the execution path needs its record on disk before it calls the broker (crash safety).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select

from core.approvals import (
    Approval,
    ApprovalState,
    JournalEntry,
    OrderRecord,
    OrderState,
    plan_from_dict,
    plan_to_dict,
)
from core.models import Direction
from db.tables import ApprovalRow, JournalRow, OrderRow

_APPROVAL_FIELDS = {"message_id", "decided_by", "decided_ts_ms", "note", "wait_checks_left", "next_check_ts_ms",
                    "wait_until_ts_ms", "parent_id", "ticket", "expires_ts_ms"}
_ORDER_FIELDS = {"ticket", "fill_price", "error", "volume"}


def _approval(row: ApprovalRow) -> Approval:
    return Approval(id=row.id, plan=plan_from_dict(json.loads(row.plan_json)), card_price=row.card_price, source=row.source, chat_id=row.chat_id,
                    requested_by=row.requested_by, state=ApprovalState(row.state), created_ts_ms=row.created_ts_ms,
                    expires_ts_ms=row.expires_ts_ms, message_id=row.message_id, decided_by=row.decided_by,
                    decided_ts_ms=row.decided_ts_ms, note=row.note, wait_checks_left=row.wait_checks_left,
                    next_check_ts_ms=row.next_check_ts_ms, wait_until_ts_ms=row.wait_until_ts_ms,
                    parent_id=row.parent_id, ticket=row.ticket)


def _order(row: OrderRow) -> OrderRecord:
    return OrderRecord(approval_id=row.approval_id, symbol=row.symbol, direction=Direction(row.direction),
                       volume=row.volume, state=OrderState(row.state), stop_loss=row.stop_loss,
                       take_profit=row.take_profit, ticket=row.ticket, fill_price=row.fill_price, error=row.error,
                       created_ts_ms=row.created_ts_ms)


class SqlApprovalStore:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def add_approval(self, approval: Approval) -> None:
        plan = approval.plan
        row = ApprovalRow(id=approval.id, symbol=plan.symbol, direction=plan.direction.value,
                          setup_type=plan.setup_type, plan_json=json.dumps(plan_to_dict(plan)),
                          card_html="", card_price=approval.card_price, source=approval.source,
                          chat_id=approval.chat_id, message_id=approval.message_id,
                          requested_by=approval.requested_by, state=approval.state.value,
                          created_ts_ms=approval.created_ts_ms, expires_ts_ms=approval.expires_ts_ms,
                          wait_checks_left=approval.wait_checks_left, parent_id=approval.parent_id)
        async with self._sessions() as session, session.begin():
            session.add(row)

    async def get_approval(self, approval_id: str) -> Approval | None:
        async with self._sessions() as session:
            row = await session.get(ApprovalRow, approval_id)
            return _approval(row) if row else None

    async def set_message(self, approval_id: str, message_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await session.exec(update(ApprovalRow).where(col(ApprovalRow.id) == approval_id)
                                  .values(message_id=message_id))

    async def transition(self, approval_id: str, from_states: Iterable[ApprovalState], to_state: ApprovalState,
                         **fields: Any) -> Approval | None:
        unknown = set(fields) - _APPROVAL_FIELDS
        if unknown:
            raise ValueError(f"cannot set {sorted(unknown)} on an approval")
        allowed = [s.value for s in from_states]
        async with self._sessions() as session, session.begin():
            result = await session.exec(
                update(ApprovalRow).where(col(ApprovalRow.id) == approval_id, col(ApprovalRow.state).in_(allowed))
                .values(state=to_state.value, **fields))
            if result.rowcount != 1:
                return None
            row = await session.get(ApprovalRow, approval_id, populate_existing=True)
            return _approval(row)

    async def list_approvals(self, states: Iterable[ApprovalState]) -> list[Approval]:
        wanted = [s.value for s in states]
        async with self._sessions() as session:
            rows = (await session.exec(select(ApprovalRow).where(col(ApprovalRow.state).in_(wanted))
                                       .order_by(ApprovalRow.created_ts_ms))).all()
            return [_approval(r) for r in rows]

    async def add_order(self, order: OrderRecord, *, gates: dict, basis: dict, ts_ms: int) -> bool:
        row = OrderRow(approval_id=order.approval_id, symbol=order.symbol, direction=order.direction.value,
                       volume=order.volume, stop_loss=order.stop_loss, take_profit=order.take_profit,
                       state=order.state.value, gates_json=json.dumps(gates), basis_json=json.dumps(basis),
                       created_ts_ms=ts_ms, updated_ts_ms=ts_ms)
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def update_order(self, approval_id: str, state: OrderState, ts_ms: int, **fields: Any) -> None:
        unknown = set(fields) - _ORDER_FIELDS
        if unknown:
            raise ValueError(f"cannot set {sorted(unknown)} on an order")
        async with self._sessions() as session, session.begin():
            await session.exec(update(OrderRow).where(col(OrderRow.approval_id) == approval_id)
                                  .values(state=state.value, updated_ts_ms=ts_ms, **fields))

    async def get_order(self, approval_id: str) -> OrderRecord | None:
        async with self._sessions() as session:
            row = (await session.exec(select(OrderRow).where(OrderRow.approval_id == approval_id))).first()
            return _order(row) if row else None

    async def list_orders(self, states: Iterable[OrderState]) -> list[OrderRecord]:
        wanted = [s.value for s in states]
        async with self._sessions() as session:
            rows = (await session.exec(select(OrderRow).where(col(OrderRow.state).in_(wanted)))).all()
            return [_order(r) for r in rows]

    async def approval_for_ticket(self, ticket: int) -> Approval | None:
        async with self._sessions() as session:
            row = (await session.exec(select(ApprovalRow).where(ApprovalRow.ticket == ticket))).first()
            return _approval(row) if row else None

    async def add_journal(self, entry: JournalEntry) -> None:
        async with self._sessions() as session, session.begin():
            session.add(JournalRow(ts_ms=entry.ts_ms, kind=entry.kind, symbol=entry.symbol,
                                   approval_id=entry.approval_id, ticket=entry.ticket, text=entry.text,
                                   data_json=json.dumps(entry.data or {}, default=str)))

    async def journal_for_ticket(self, ticket: int) -> list[JournalEntry]:
        async with self._sessions() as session:
            rows = (await session.exec(select(JournalRow).where(JournalRow.ticket == ticket)
                                       .order_by(JournalRow.id))).all()
            return [JournalEntry(ts_ms=r.ts_ms, kind=r.kind, text=r.text, symbol=r.symbol, approval_id=r.approval_id,
                                 ticket=r.ticket, data=json.loads(r.data_json)) for r in rows]
