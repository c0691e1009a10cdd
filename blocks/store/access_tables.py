"""sqlmodel tables of the server's API tokens and access policies (alembic
``0013_tokens_policies``; sealed rows, see :mod:`blocks.store.access_seals`).

Changes here need an alembic revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


class ApiTokenRow(SQLModel, table=True):
    """A token of the ``blocks server`` API: only the SHA-256 of the token is stored."""

    __tablename__ = "api_token"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(sa_column=Column(String(63), nullable=False, unique=True))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    """SHA-256 (hex) of the token."""
    owner: str = Field(max_length=200)
    policies: str = Field(sa_column=Column(Text, nullable=False))
    """The policy names, a sorted JSON list."""
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    """Not sealed: it decides nothing (updated at most once a minute per token)."""
    mac_term: int = Field(
        sa_column=Column(Integer, ForeignKey("keyring_term.term"), nullable=False))
    mac: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AccessPolicyRow(SQLModel, table=True):
    """A named access policy: a JSON document of capabilities on name patterns."""

    __tablename__ = "access_policy"

    name: str = Field(sa_column=Column(String(63), primary_key=True))
    document: str = Field(sa_column=Column(Text, nullable=False))
    """Canonical JSON."""
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    mac_term: int = Field(
        sa_column=Column(Integer, ForeignKey("keyring_term.term"), nullable=False))
    mac: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
