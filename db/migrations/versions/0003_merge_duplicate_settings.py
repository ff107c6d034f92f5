"""one setting per gate: signal.min_confidence, signal.max_spread_bps and signal.risk_per_trade_pct
are merged into their risk.* twins (the ones EXECUTE applies)

A stored override of a retired name is removed (the risk.* value governs) and the removal is
written to the audit trail, so an admin can see what happened to it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""
import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RETIRED = {"signal.min_confidence": "risk.min_confidence", "signal.max_spread_bps": "risk.max_spread_bps",
           "signal.risk_per_trade_pct": "risk.risk_per_trade_pct"}


def upgrade() -> None:
    values = sa.table("setting_values", sa.column("name", sa.String), sa.column("value", sa.Text))
    audit = sa.table("setting_audit", sa.column("name", sa.String), sa.column("old_value", sa.Text),
                     sa.column("new_value", sa.Text), sa.column("changed_by", sa.BigInteger),
                     sa.column("ts_ms", sa.BigInteger))
    conn = op.get_bind()
    now_ms = int(time.time() * 1000)
    for old, new in RETIRED.items():
        row = conn.execute(sa.select(values.c.value).where(values.c.name == old)).first()
        if row is None:
            continue
        conn.execute(audit.insert().values(name=old, old_value=row[0],
                                           new_value=f"(retired: {new} governs this gate)", changed_by=0,
                                           ts_ms=now_ms))
        conn.execute(values.delete().where(values.c.name == old))


def downgrade() -> None:
    pass  # the removed overrides stay in the audit trail
