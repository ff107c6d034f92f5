"""SQLModel tables of the AI stage: the cost ledger (one row per call), prompts, reviews."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel


class AiCallRow(SQLModel, table=True):
    """One stage call. The newest ``ok`` row of a prompt key is that prompt's cached answer."""

    __tablename__ = "ai_calls"

    id: int | None = Field(default=None, primary_key=True)
    ts_ms: int = Field(sa_type=BigInteger, index=True)
    review_id: str = Field(max_length=16, index=True)
    signal_id: str | None = Field(default=None, max_length=32, index=True)
    symbol: str = Field(max_length=24)
    stage: str = Field(max_length=16)
    model: str = Field(max_length=96)
    outcome: str = Field(max_length=16)
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float | None = None
    attempts: int = 0
    prompt_key: str = Field(max_length=64, index=True)
    response_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class AiPromptRow(SQLModel, table=True):
    __tablename__ = "ai_prompts"

    key: str = Field(primary_key=True, max_length=64)
    model: str = Field(max_length=96)
    stage: str = Field(max_length=16)
    system_text: str = Field(sa_column=Column(Text, nullable=False))
    user_text: str = Field(sa_column=Column(Text, nullable=False))


class AiReviewRow(SQLModel, table=True):
    """A signal's AI verdicts (for the learning issue: how each verdict later performed)."""

    __tablename__ = "ai_reviews"

    review_id: str = Field(primary_key=True, max_length=16)
    ts_ms: int = Field(sa_type=BigInteger, index=True)
    symbol: str = Field(max_length=24)
    signal_id: str | None = Field(default=None, max_length=32, index=True)
    screener_verdict: str | None = Field(default=None, max_length=16)
    screener_confidence: float | None = None
    validator_decision: str | None = Field(default=None, max_length=16)
    validator_skipped: str = Field(default="", sa_column=Column(Text, nullable=False))
    screened_out: bool = False
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    summary_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
