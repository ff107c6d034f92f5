"""users, runtime setting values and their audit trail

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("telegram_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False, server_default=""),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("created_ts_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "setting_values",
        sa.Column("name", sa.String(96), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=False),
        sa.Column("updated_ts_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "setting_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(96), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_setting_audit_name", "setting_audit", ["name"])
    op.create_index("ix_setting_audit_ts_ms", "setting_audit", ["ts_ms"])


def downgrade() -> None:
    op.drop_table("setting_audit")
    op.drop_table("setting_values")
    op.drop_table("users")
