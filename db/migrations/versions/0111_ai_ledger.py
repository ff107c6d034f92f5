"""AI cost ledger (ai_calls), prompts and reviews

Revision ID: 0111
Revises: 0103
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0111"
down_revision = "0103"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_calls",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("review_id", sa.String(16), nullable=False),
        sa.Column("signal_id", sa.String(32), nullable=True),
        sa.Column("symbol", sa.String(24), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("model", sa.String(96), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cached_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Float(), nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("prompt_key", sa.String(64), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_ai_calls_ts_ms", "ai_calls", ["ts_ms"])
    op.create_index("ix_ai_calls_review_id", "ai_calls", ["review_id"])
    op.create_index("ix_ai_calls_signal_id", "ai_calls", ["signal_id"])
    op.create_index("ix_ai_calls_prompt_key", "ai_calls", ["prompt_key"])
    op.create_table(
        "ai_prompts",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(96), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("system_text", sa.Text(), nullable=False),
        sa.Column("user_text", sa.Text(), nullable=False),
    )
    op.create_table(
        "ai_reviews",
        sa.Column("review_id", sa.String(16), primary_key=True),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(24), nullable=False),
        sa.Column("signal_id", sa.String(32), nullable=True),
        sa.Column("screener_verdict", sa.String(16), nullable=True),
        sa.Column("screener_confidence", sa.Float(), nullable=True),
        sa.Column("validator_decision", sa.String(16), nullable=True),
        sa.Column("validator_skipped", sa.Text(), nullable=False),
        sa.Column("screened_out", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("cost_usd", sa.Float(), nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Float(), nullable=False, server_default="0"),
        sa.Column("summary_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_ai_reviews_ts_ms", "ai_reviews", ["ts_ms"])
    op.create_index("ix_ai_reviews_signal_id", "ai_reviews", ["signal_id"])


def downgrade() -> None:
    op.drop_table("ai_reviews")
    op.drop_table("ai_prompts")
    op.drop_table("ai_calls")
