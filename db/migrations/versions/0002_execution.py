"""approvals, orders (one per approval), journal, closed trades, trading state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("symbol", sa.String(24), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("setup_type", sa.String(48), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("card_html", sa.Text(), nullable=False),
        sa.Column("card_price", sa.Float(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("wait_checks_left", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_check_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("wait_until_ts_ms", sa.BigInteger(), nullable=True),
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("ticket", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_approvals_symbol", "approvals", ["symbol"])
    op.create_index("ix_approvals_state", "approvals", ["state"])
    op.create_index("ix_approvals_expires_ts_ms", "approvals", ["expires_ts_ms"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("approval_id", sa.String(32), nullable=False, unique=True),
        sa.Column("symbol", sa.String(24), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("stop_loss", sa.Float(), nullable=True),
        sa.Column("take_profit", sa.Float(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ticket", sa.BigInteger(), nullable=True),
        sa.Column("fill_price", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("gates_json", sa.Text(), nullable=False),
        sa.Column("basis_json", sa.Text(), nullable=False),
        sa.Column("created_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ts_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_orders_state", "orders", ["state"])
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("symbol", sa.String(24), nullable=False, server_default=""),
        sa.Column("approval_id", sa.String(32), nullable=True),
        sa.Column("ticket", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
    )
    op.create_index("ix_journal_ts_ms", "journal", ["ts_ms"])
    op.create_index("ix_journal_approval_id", "journal", ["approval_id"])
    op.create_table(
        "closed_trades",
        sa.Column("ticket", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("approval_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("symbol", sa.String(24), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("setup_type", sa.String(48), nullable=False, server_default=""),
        sa.Column("entry_price", sa.Float(), nullable=False),
        sa.Column("exit_price", sa.Float(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("realized_pnl", sa.Float(), nullable=False),
        sa.Column("risk_amount", sa.Float(), nullable=False, server_default="0"),
        sa.Column("open_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("close_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("exit_reason", sa.String(48), nullable=False, server_default=""),
    )
    op.create_index("ix_closed_trades_close_ts_ms", "closed_trades", ["close_ts_ms"])
    op.create_table(
        "trading_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("paused_by", sa.BigInteger(), nullable=True),
        sa.Column("breaker_json", sa.Text(), nullable=False),
        sa.Column("updated_ts_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ("trading_state", "closed_trades", "journal", "orders", "approvals"):
        op.drop_table(table)
