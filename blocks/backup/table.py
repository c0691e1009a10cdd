"""A table copied row by row into a backup and back: :class:`TableKind` and the
:class:`Context` the kinds share while streaming (see :mod:`blocks.backup.kinds`)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from blocks.errors import BackupError, IntegrityError
from blocks.store import census, chain

PAGE = 200
Message = Callable[[int], bytes]
Row = dict[str, Any]


@dataclass
class Context:
    """One side of a backup or restore: the DB-API connection inside its transaction, the
    registry's keyring and sealer, and what the kinds share while streaming."""

    conn: Any
    writer: Any  # blocks.store.writer.Writer
    sealer: Any  # blocks.store.sealing.KeyringSealer
    rng: Callable[[int], bytes]
    where: str = ""
    members: dict[str, list[int]] = field(default_factory=dict)
    chain_at: tuple[int, str] = (0, "")
    counts: dict[str, int] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """Run ``?``-placeholder SQL on the connection; returns the cursor."""
        return self.conn.execute(self.writer.native(sql), params)

    def one(self, sql: str, params: tuple[Any, ...]) -> Any:
        """The first row of a query, or ``None``."""
        return self.run(sql, params).fetchone()

    def count_member(self, name: str, member: int) -> None:
        """Add a member to census ``name`` (kept as a count and a sum: O(1) memory)."""
        found = self.members.setdefault(name, [0, 0])
        found[0] += 1
        found[1] = (found[1] + member) % 2**256

    def censuses(self) -> dict[str, tuple[int, str]]:
        """The censuses of what went by: ``{name: (count, digest)}``."""
        out = {census.MIRRORS: (0, census.digest(()))}
        out.update({n: (c, format(s, "064x")) for n, (c, s) in self.members.items()})
        return out


@dataclass(frozen=True)
class TableKind:
    """One table copied row by row.

    Attributes:
        name: the record kind in the file.
        table: the table.
        key: primary key columns (the order rows are read and written in).
        columns: the columns copied, without the MAC columns.
        times / binary / booleans: columns converted to ISO text, base64 and bool in the file.
        mac: the term and MAC columns, when the rows are sealed.
        message: what a row's MAC covers (``lookup`` runs a query on the same connection).
        describe: the row named for people (errors; never a stored value beyond names).
        member: the row's ``(census name, member value)``, when a census counts it.
    """

    name: str
    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    times: frozenset[str] = frozenset()
    binary: frozenset[str] = frozenset()
    booleans: frozenset[str] = frozenset()
    mac: tuple[str, str] | None = ("mac_term", "mac")
    message: Callable[[Row, Context], Message] | None = None
    describe: Callable[[Row], str] = lambda r: "a record"
    member: Callable[[Row], tuple[str, int]] | None = None
    emptiness: bool = True
    """Whether a row of this table makes a registry non-empty (not for singletons)."""

    def count(self, ctx: Context) -> int:
        """How many rows the table holds."""
        return int(ctx.one(f"SELECT COUNT(*) FROM {self.table}", ())[0])  # noqa: S608

    def dump(self, ctx: Context) -> Iterator[Row]:
        """Every row, checked, as file values."""
        names = (*self.columns, *(self.mac or ()))
        order = ", ".join(self.key)
        last: tuple[Any, ...] | None = None
        while True:
            where, params = "", ()
            if last is not None:
                where = (f" WHERE {self.key[0]} > ?" if len(self.key) == 1 else
                         f" WHERE ({order}) > ({', '.join('?' for _ in self.key)})")
                params = last
            rows = ctx.run(f"SELECT {', '.join(names)} FROM {self.table}{where} "  # noqa: S608
                           f"ORDER BY {order} LIMIT {PAGE}", params).fetchall()
            for values in rows:
                row = dict(zip(names, values, strict=True))
                self.check(ctx, row)
                yield self.to_file(row)
            if len(rows) < PAGE:
                return
            last = tuple(rows[-1][self.columns.index(k)] for k in self.key)

    def check(self, ctx: Context, row: Row) -> None:
        """Refuse a row whose MAC does not authenticate under the source's keys."""
        if self.mac is not None and self.message is not None:
            term, mac = row[self.mac[0]], row[self.mac[1]]
            if not ctx.sealer.valid(term, mac, self.message(self.normal(row), ctx)):
                raise IntegrityError(self.describe(row))
        if self.member is not None:
            ctx.count_member(*self.member(row))

    def normal(self, row: Row) -> Row:
        """Stored values as the MAC functions take them (timestamps as ISO text)."""
        return {k: (chain.at_text(v) if k in self.times and v is not None else v)
                for k, v in row.items()}

    def to_file(self, row: Row) -> Row:
        """A checked row as the file holds it (no MAC: the target seals afresh)."""
        out: Row = {}
        for col in self.columns:
            value = row[col]
            if value is not None and col in self.times:
                value = chain.at_text(value)
            elif value is not None and col in self.binary:
                value = base64.b64encode(bytes(value)).decode("ascii")
            elif value is not None and col in self.booleans:
                value = bool(value)
            out[col] = value
        return out

    def restore(self, ctx: Context, record: Any) -> None:
        """Insert one record, sealed under the target's keys."""
        row = self.from_file(ctx, record)
        values = {c: self.stored(ctx, c, row[c]) for c in self.columns}
        if self.mac is not None and self.message is not None:
            values[self.mac[0]], values[self.mac[1]] = ctx.sealer.sign(self.message(row, ctx))
        if self.member is not None:
            ctx.count_member(*self.member(row))
        cols = ", ".join(values)
        ctx.run(f"INSERT INTO {self.table} ({cols}) "  # noqa: S608 - names are constants
                f"VALUES ({', '.join('?' for _ in values)})", tuple(values.values()))

    def from_file(self, ctx: Context, record: Any) -> Row:
        """A record's values (file form) checked for shape; times stay ISO text."""
        if not isinstance(record, dict) or set(record) != set(self.columns):
            raise BackupError(f"{ctx.where}: a {self.name} record has other fields than "
                              "expected; the file was made by another version of Blocks")
        return dict(record)

    def stored(self, ctx: Context, column: str, value: Any) -> Any:
        """A file value as the target database stores it."""
        if value is None:
            return None
        if column in self.times:
            return ctx.writer.stamp(datetime.fromisoformat(value))
        if column in self.binary:
            return base64.b64decode(value)
        if column in self.booleans:
            return bool(value)
        return value
