"""The AiLedger port over SQL: the cost ledger (and with it the response cache), prompts, reviews.

Like the approval store, each method commits at once in its own short transaction: a paid call
must be on disk whatever happens to the update that caused it.
"""

from __future__ import annotations

from sqlalchemy import func, insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.llm.ports import Outcome, Prompt, Stage, TokenUsage
from core.llm.records import CallRecord, ReviewRecord, StoredPrompt
from db.ai_tables import AiCallRow, AiPromptRow, AiReviewRow
from db.tables import ApprovalRow


def _call(row: AiCallRow) -> CallRecord:
    return CallRecord(ts_ms=row.ts_ms, review_id=row.review_id, symbol=row.symbol, stage=Stage(row.stage),
                      model=row.model, outcome=Outcome(row.outcome),
                      usage=TokenUsage(row.input_tokens, row.cached_tokens, row.output_tokens, row.reasoning_tokens),
                      latency_ms=row.latency_ms, cost_usd=row.cost_usd, attempts=row.attempts,
                      prompt_key=row.prompt_key, signal_id=row.signal_id, response_text=row.response_text,
                      detail=row.detail, id=row.id)


def _review(row: AiReviewRow) -> ReviewRecord:
    return ReviewRecord(review_id=row.review_id, ts_ms=row.ts_ms, symbol=row.symbol, signal_id=row.signal_id,
                        screener_verdict=row.screener_verdict, screener_confidence=row.screener_confidence,
                        validator_decision=row.validator_decision, validator_skipped=row.validator_skipped,
                        screened_out=row.screened_out, cost_usd=row.cost_usd, latency_ms=row.latency_ms,
                        summary_json=row.summary_json)


def _call_values(record: CallRecord) -> dict:
    u = record.usage
    return {"ts_ms": record.ts_ms, "review_id": record.review_id, "signal_id": record.signal_id,
            "symbol": record.symbol, "stage": record.stage.value, "model": record.model,
            "outcome": record.outcome.value, "input_tokens": u.input_tokens, "cached_tokens": u.cached_tokens,
            "output_tokens": u.output_tokens, "reasoning_tokens": u.reasoning_tokens, "latency_ms": record.latency_ms,
            "cost_usd": record.cost_usd, "attempts": record.attempts, "prompt_key": record.prompt_key,
            "response_text": record.response_text, "detail": record.detail}


class SqlAiLedger:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions
        self._answered: set[str] | None = None  # prompt keys with a valid answer (loaded once)
        self._prompts_seen: set[str] = set()  # prompts this process has stored

    async def add_records(self, calls: list[tuple[CallRecord, Prompt]], reviews: list[ReviewRecord]) -> None:
        async with self._sessions() as session, session.begin():
            for record, prompt in calls:
                if record.prompt_key not in self._prompts_seen:
                    found = await session.exec(select(AiPromptRow.key).where(AiPromptRow.key == record.prompt_key))
                    if found.first() is None:
                        await session.exec(insert(AiPromptRow).values(
                            key=record.prompt_key, model=record.model, stage=prompt.stage.value,
                            system_text=prompt.system, user_text=prompt.user))
                    self._prompts_seen.add(record.prompt_key)
                await session.exec(insert(AiCallRow).values(**_call_values(record)))
            for review in reviews:
                await session.exec(insert(AiReviewRow).values(
                    **{name: getattr(review, name) for name in ReviewRecord.__dataclass_fields__}))
        if self._answered is not None:
            self._answered.update(r.prompt_key for r, _ in calls if r.outcome is Outcome.OK)

    async def cached_response(self, key: str) -> str | None:
        """Most prompts are new: an in-memory index of answered keys spares the query for them."""
        if self._answered is None:
            async with self._sessions() as session:
                keys = await session.exec(select(AiCallRow.prompt_key).where(AiCallRow.outcome == Outcome.OK.value))
                self._answered = set(keys.all())
        if key not in self._answered:
            return None
        query = (select(AiCallRow.response_text).where(AiCallRow.prompt_key == key)
                 .where(AiCallRow.outcome == Outcome.OK.value).order_by(col(AiCallRow.id).desc()).limit(1))
        async with self._sessions() as session:
            return (await session.exec(query)).first()

    async def spent_usd(self, since_ts_ms: int) -> float:
        query = select(func.coalesce(func.sum(AiCallRow.cost_usd), 0.0)).where(AiCallRow.ts_ms >= since_ts_ms)
        async with self._sessions() as session:
            return float((await session.exec(query)).one())

    async def list_calls(self, since_ts_ms: int) -> list[CallRecord]:
        query = select(AiCallRow).where(AiCallRow.ts_ms >= since_ts_ms).order_by(col(AiCallRow.id))
        async with self._sessions() as session:
            return [_call(r) for r in (await session.exec(query)).all()]

    async def calls_for_review(self, review_id: str) -> list[CallRecord]:
        query = select(AiCallRow).where(AiCallRow.review_id == review_id).order_by(col(AiCallRow.id))
        async with self._sessions() as session:
            return [_call(r) for r in (await session.exec(query)).all()]

    async def get_prompt(self, key: str) -> StoredPrompt | None:
        async with self._sessions() as session:
            row = await session.get(AiPromptRow, key)
        if row is None:
            return None
        return StoredPrompt(row.key, row.model, Stage(row.stage), row.system_text, row.user_text)

    async def list_reviews(self, since_ts_ms: int) -> list[ReviewRecord]:
        query = select(AiReviewRow).where(AiReviewRow.ts_ms >= since_ts_ms).order_by(col(AiReviewRow.ts_ms))
        async with self._sessions() as session:
            return [_review(r) for r in (await session.exec(query)).all()]

    async def reviews_for_signal(self, signal_id: str) -> list[ReviewRecord]:
        query = select(AiReviewRow).where(AiReviewRow.signal_id == signal_id).order_by(col(AiReviewRow.ts_ms))
        async with self._sessions() as session:
            return [_review(r) for r in (await session.exec(query)).all()]

    async def get_review(self, review_id: str) -> ReviewRecord | None:
        async with self._sessions() as session:
            row = await session.get(AiReviewRow, review_id)
        return _review(row) if row else None


async def card_symbol(session: AsyncSession, chat_id: int, message_id: int | None = None) -> str | None:
    """The symbol of the card ``message_id`` in this chat, or of the chat's newest card."""
    query = select(ApprovalRow.symbol).where(ApprovalRow.chat_id == chat_id)
    if message_id is not None:
        query = query.where(ApprovalRow.message_id == message_id)
    newest = query.order_by(col(ApprovalRow.created_ts_ms).desc(), col(ApprovalRow.message_id).desc())
    return (await session.exec(newest.limit(1))).first()
