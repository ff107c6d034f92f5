"""Journal reads, closed trades and the persisted trading state (paused flag, daily-loss breaker)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.approvals import JournalEntry
from core.models import Direction
from core.stats import ClosedTrade
from db.tables import ApprovalRow, ClosedTradeRow, JournalRow, TradingStateRow


async def list_journal(session: AsyncSession, *, limit: int = 20) -> list[JournalEntry]:
    rows = (await session.exec(select(JournalRow).order_by(col(JournalRow.id).desc()).limit(limit))).all()
    return [JournalEntry(ts_ms=r.ts_ms, kind=r.kind, text=r.text, symbol=r.symbol, approval_id=r.approval_id,
                         ticket=r.ticket, data=json.loads(r.data_json)) for r in rows]


async def list_closed_trades(session: AsyncSession, *, since_ts_ms: int = 0) -> list[ClosedTrade]:
    rows = (await session.exec(select(ClosedTradeRow).where(ClosedTradeRow.close_ts_ms >= since_ts_ms)
                               .order_by(ClosedTradeRow.close_ts_ms, ClosedTradeRow.ticket))).all()
    return [_trade(r) for r in rows]


async def list_approval_sources(session: AsyncSession, approval_ids: Iterable[str | None]) -> dict[str, str]:
    """The market-data source (LIVE, SIMULATED, REPLAY) each card was issued on, by approval id."""
    ids = sorted({i for i in approval_ids if i})
    if not ids:
        return {}
    rows = (await session.exec(select(ApprovalRow.id, ApprovalRow.source).where(col(ApprovalRow.id).in_(ids)))).all()
    return {approval_id: source for approval_id, source in rows}


def _trade(r: ClosedTradeRow) -> ClosedTrade:
    r_multiple = r.realized_pnl / r.risk_amount if r.risk_amount > 0 else None
    return ClosedTrade(approval_id=r.approval_id, ticket=r.ticket, symbol=r.symbol, direction=Direction(r.direction),
                       setup_type=r.setup_type, entry_price=r.entry_price, exit_price=r.exit_price, volume=r.volume,
                       realized_pnl=r.realized_pnl, risk_amount=r.risk_amount, r_multiple=r_multiple,
                       open_ts_ms=r.open_ts_ms, close_ts_ms=r.close_ts_ms, exit_reason=r.exit_reason,
                       provisional=r.provisional)


class SqlTradingRecords:
    """Closed trades and the trading state, written at once (called from jobs and the trading service)."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def add_closed_trade(self, trade: ClosedTrade) -> None:
        """Record a closed trade once; a provisional one is replaced by the next (its confirmation)."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ClosedTradeRow, trade.ticket)
            if row is not None and not row.provisional:
                return
            if row is not None:
                await session.delete(row)
                await session.flush()
            session.add(ClosedTradeRow(ticket=trade.ticket, approval_id=trade.approval_id, symbol=trade.symbol,
                                       direction=trade.direction.value, setup_type=trade.setup_type,
                                       entry_price=trade.entry_price, exit_price=trade.exit_price,
                                       volume=trade.volume, realized_pnl=trade.realized_pnl,
                                       risk_amount=trade.risk_amount, open_ts_ms=trade.open_ts_ms,
                                       close_ts_ms=trade.close_ts_ms, exit_reason=trade.exit_reason,
                                       provisional=trade.provisional))

    async def provisional_trades(self) -> list[ClosedTrade]:
        """Closed trades whose P/L the broker has not confirmed yet, oldest first."""
        async with self._sessions() as session:
            rows = (await session.exec(select(ClosedTradeRow).where(col(ClosedTradeRow.provisional))
                                       .order_by(ClosedTradeRow.close_ts_ms))).all()
            return [_trade(r) for r in rows]

    async def closed_trades(self, since_ts_ms: int = 0) -> list[ClosedTrade]:
        async with self._sessions() as session:
            return await list_closed_trades(session, since_ts_ms=since_ts_ms)

    async def load_state(self) -> tuple[bool, int | None, dict]:
        async with self._sessions() as session:
            row = await session.get(TradingStateRow, 1)
            if row is None:
                return False, None, {}
            return row.paused, row.paused_by, json.loads(row.breaker_json)

    async def save_state(self, *, paused: bool, paused_by: int | None, breaker: dict, ts_ms: int) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(TradingStateRow, 1)
            if row is None:
                session.add(TradingStateRow(id=1, paused=paused, paused_by=paused_by,
                                            breaker_json=json.dumps(breaker), updated_ts_ms=ts_ms))
            else:
                row.paused, row.paused_by = paused, paused_by
                row.breaker_json = json.dumps(breaker)
                row.updated_ts_ms = ts_ms
