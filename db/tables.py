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
