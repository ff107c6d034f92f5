"""SQLModel tables. Repository functions in the sibling modules return core models, not these."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(max_length=16)
    name: str = Field(default="", max_length=128)
    added_by: int | None = Field(default=None, sa_type=BigInteger)
    created_ts_ms: int = Field(sa_type=BigInteger)


class SettingValueRow(SQLModel, table=True):
    __tablename__ = "setting_values"

    name: str = Field(primary_key=True, max_length=96)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: int = Field(sa_type=BigInteger)
    updated_ts_ms: int = Field(sa_type=BigInteger)


class SettingAuditRow(SQLModel, table=True):
    __tablename__ = "setting_audit"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=96, index=True)
    old_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_value: str = Field(sa_column=Column(Text, nullable=False))
    changed_by: int = Field(sa_type=BigInteger)
    ts_ms: int = Field(sa_type=BigInteger, index=True)


class ApprovalRow(SQLModel, table=True):
    """A signal card awaiting (or past) a trader's decision; the id is the idempotency key."""

    __tablename__ = "approvals"

    id: str = Field(primary_key=True, max_length=32)
    symbol: str = Field(max_length=24, index=True)
    direction: str = Field(max_length=8)
    setup_type: str = Field(max_length=48)
    plan_json: str = Field(sa_column=Column(Text, nullable=False))
    card_html: str = Field(sa_column=Column(Text, nullable=False))
    card_price: float
    source: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    requested_by: int = Field(sa_type=BigInteger)
    state: str = Field(max_length=16, index=True)
    created_ts_ms: int = Field(sa_type=BigInteger)
    expires_ts_ms: int = Field(sa_type=BigInteger, index=True)
    decided_by: int | None = Field(default=None, sa_type=BigInteger)
    decided_ts_ms: int | None = Field(default=None, sa_type=BigInteger)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    wait_checks_left: int = 0
    next_check_ts_ms: int | None = Field(default=None, sa_type=BigInteger)
    wait_until_ts_ms: int | None = Field(default=None, sa_type=BigInteger)
    parent_id: str | None = Field(default=None, max_length=32)
    ticket: int | None = Field(default=None, sa_type=BigInteger)


class OrderRow(SQLModel, table=True):
    """One broker order per approval at most: the unique approval id forbids a second one."""

    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    approval_id: str = Field(max_length=32, unique=True)
    symbol: str = Field(max_length=24)
    direction: str = Field(max_length=8)
    volume: float
    stop_loss: float | None = None
    take_profit: float | None = None
    state: str = Field(max_length=16, index=True)
    ticket: int | None = Field(default=None, sa_type=BigInteger)
    fill_price: float | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    gates_json: str = Field(sa_column=Column(Text, nullable=False))
    basis_json: str = Field(sa_column=Column(Text, nullable=False))
    created_ts_ms: int = Field(sa_type=BigInteger)
    updated_ts_ms: int = Field(sa_type=BigInteger)


class JournalRow(SQLModel, table=True):
    __tablename__ = "journal"

    id: int | None = Field(default=None, primary_key=True)
    ts_ms: int = Field(sa_type=BigInteger, index=True)
    kind: str = Field(max_length=24)
    symbol: str = Field(default="", max_length=24)
    approval_id: str | None = Field(default=None, max_length=32, index=True)
    ticket: int | None = Field(default=None, sa_type=BigInteger)
    text: str = Field(sa_column=Column(Text, nullable=False))
    data_json: str = Field(sa_column=Column(Text, nullable=False))


class ClosedTradeRow(SQLModel, table=True):
    __tablename__ = "closed_trades"

    ticket: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    approval_id: str = Field(default="", max_length=32)
    symbol: str = Field(max_length=24)
    direction: str = Field(max_length=8)
    setup_type: str = Field(default="", max_length=48)
    entry_price: float
    exit_price: float
    volume: float
    realized_pnl: float
    risk_amount: float = 0.0
    open_ts_ms: int = Field(sa_type=BigInteger)
    close_ts_ms: int = Field(sa_type=BigInteger, index=True)
    exit_reason: str = Field(default="", max_length=48)
    provisional: bool = False  # the P/L is an estimate until the broker's closing deals confirm it


class TradingStateRow(SQLModel, table=True):
    __tablename__ = "trading_state"

    id: int = Field(default=1, primary_key=True)
    paused: bool = False
    paused_by: int | None = Field(default=None, sa_type=BigInteger)
    breaker_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    updated_ts_ms: int = Field(sa_type=BigInteger)


class ShadowTradeRow(SQLModel, table=True):
    """A shadow (or other non-real) trade: ``book`` keeps it apart from real trades; the rest is JSON."""

    __tablename__ = "shadow_trades"

    id: str = Field(primary_key=True, max_length=64)
    book: str = Field(max_length=16, index=True)
    symbol: str = Field(max_length=24, index=True)
    signal_ts_ms: int = Field(sa_type=BigInteger, index=True)
    approval_id: str | None = Field(default=None, max_length=32, index=True)
    status: str = Field(max_length=8, index=True)  # open | closed
    close_ts_ms: int | None = Field(default=None, sa_type=BigInteger, index=True)
    outcome: str | None = Field(default=None, max_length=16)
    r: float | None = None
    decision: str = Field(default="none", max_length=16)
    data_json: str = Field(sa_column=Column(Text, nullable=False))


class KnowledgeRow(SQLModel, table=True):
    __tablename__ = "knowledge"

    key: str = Field(primary_key=True, max_length=96)
    area: str = Field(max_length=32, index=True)
    status: str = Field(max_length=16)
    updated_ts_ms: int = Field(sa_type=BigInteger)
    data_json: str = Field(sa_column=Column(Text, nullable=False))


class ProposalRow(SQLModel, table=True):
    __tablename__ = "optimizer_proposals"

    id: int | None = Field(default=None, primary_key=True)
    created_ts_ms: int = Field(sa_type=BigInteger)
    status: str = Field(max_length=16, index=True)  # pending | applied | ignored | reverted
    recommended: bool = False
    decided_by: int | None = Field(default=None, sa_type=BigInteger)
    decided_ts_ms: int | None = Field(default=None, sa_type=BigInteger)
    data_json: str = Field(sa_column=Column(Text, nullable=False))
