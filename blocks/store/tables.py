"""sqlmodel tables of the block registry. Changes here need an alembic revision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class KeyringTermRow(SQLModel, table=True):
    """A keyring term: an AES-256 key wrapped by the master key."""

    __tablename__ = "keyring_term"

    term: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    provider: str = Field(max_length=32)
    key_id: str = Field(max_length=512)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class RegistryStateRow(SQLModel, table=True):
    """Registry-wide state flags (``unsealed``: rows from before 0003 still to be sealed)."""

    __tablename__ = "registry_state"

    name: str = Field(primary_key=True, max_length=63)
    value: str = Field(sa_column=Column(Text, nullable=False))


class BlockRow(SQLModel, table=True):
    """A named block of a type, pointing at its current version.

    ``head_mac`` seals the head (id, type, name, current and latest version, stages) under the
    keyring term ``head_term``; see :mod:`blocks.crypto.integrity`.
    """

    __tablename__ = "block"
    __table_args__ = (UniqueConstraint("type_slug", "name", name="uq_block_type_slug_name"),)

    id: str = Field(primary_key=True, max_length=36)
    type_slug: str = Field(max_length=63)
    name: str = Field(max_length=63)
    current_version: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    latest_version: int | None = Field(default=None)
    stages: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    head_term: int | None = Field(default=None)
    head_mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class BlockVersionRow(SQLModel, table=True):
    """An immutable sealed version. ``wrapped_key`` NULL means crypto-shredded."""

    __tablename__ = "block_version"

    block_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("block.id", ondelete="CASCADE"), primary_key=True
        )
    )
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    term: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("keyring_term.term"), nullable=True, index=True),
    )
    wrapped_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    ciphertext: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    schema_checksum: str = Field(max_length=80)
    schema_version: str = Field(max_length=32)
    note: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class BlockRefRow(SQLModel, table=True):
    """A reference from a block's current version to another block (blocks deletes)."""

    __tablename__ = "block_ref"
    __table_args__ = (Index("ix_block_ref_ref_block_id", "ref_block_id"),)

    block_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("block.id", ondelete="CASCADE"), primary_key=True
        )
    )
    path: str = Field(primary_key=True, max_length=255)
    ref_block_id: str = Field(
        sa_column=Column(String(36), ForeignKey("block.id", ondelete="RESTRICT"), nullable=False)
    )
    mac_term: int | None = Field(
        default=None, sa_column=Column(ForeignKey("keyring_term.term"), nullable=True)
    )
    mac: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class SealedCensusRow(SQLModel, table=True):
    """A sealed count and digest of a set of records (``blocks:<slug>``, ``mirrors``);
    see :mod:`blocks.store.census`."""

    __tablename__ = "sealed_census"

    name: str = Field(primary_key=True, max_length=80)
    members: int
    digest: str = Field(max_length=64)
    mac_term: int = Field(sa_column=Column(ForeignKey("keyring_term.term"), nullable=False))
    mac: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
