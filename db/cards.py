"""The rendered text of each signal card, kept at the edge so a press or the expiry job can edit it.

Core's ``Approval`` carries facts only; the card's HTML is the bot's, stored beside the approval
row (``approvals.card_html``). Each call is its own short transaction.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from db.tables import ApprovalRow


async def save_card(sessions: async_sessionmaker, approval_id: str, card_html: str) -> None:
    async with sessions() as session, session.begin():
        await session.exec(update(ApprovalRow).where(col(ApprovalRow.id) == approval_id)
                           .values(card_html=card_html))


async def get_card(sessions: async_sessionmaker, approval_id: str) -> str:
    async with sessions() as session:
        row = await session.get(ApprovalRow, approval_id)
        return row.card_html if row is not None else ""
