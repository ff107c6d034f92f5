"""learning: shadow trades (a book apart from real trades), the knowledge base, optimizer proposals

Revision ID: 0103
Revises: 0004
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0103"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shadow_trades",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("book", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(24), nullable=False),
        sa.Column("signal_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("approval_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("close_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("r", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False, server_default="none"),
        sa.Column("data_json", sa.Text(), nullable=False),
    )
    for column in ("book", "symbol", "signal_ts_ms", "approval_id", "status", "close_ts_ms"):
        op.create_index(f"ix_shadow_trades_{column}", "shadow_trades", [column])
    op.create_table(
        "knowledge",
        sa.Column("key", sa.String(96), primary_key=True),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_knowledge_area", "knowledge", ["area"])
    op.create_table(
        "optimizer_proposals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recommended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("data_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_optimizer_proposals_status", "optimizer_proposals", ["status"])


def downgrade() -> None:
    for table in ("optimizer_proposals", "knowledge", "shadow_trades"):
        op.drop_table(table)
