"""sqlmodel table of the machine identities of ``blocks server`` (alembic
``0016_machine_identities``; sealed rows, see :mod:`blocks.store.jwt_seals`).

Changes here need an alembic revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel


class JwtConfigRow(SQLModel, table=True):
    """A trusted JWT issuer (``kind='issuer'``) or a role mapping claims to policies."""

    __tablename__ = "jwt_config"

    kind: str = Field(sa_column=Column(String(16), primary_key=True))
    name: str = Field(sa_column=Column(String(63), primary_key=True))
    document: str = Field(sa_column=Column(Text, nullable=False))
    """Canonical JSON (:mod:`blocks.access.jwt_config`)."""
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    mac_term: int = Field(
        sa_column=Column(Integer, ForeignKey("keyring_term.term"), nullable=False))
    mac: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
