"""Checking the token and policy rows an access store reads: each row's MAC and its set's
sealed census, with a memo of the rows already checked (a changed row is a new key), so an
authentication costs three indexed reads and no MAC when nothing changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from blocks.access import policies as policy_docs
from blocks.access.policies import Policy
from blocks.errors import IntegrityError
from blocks.store import access_seals as seals
from blocks.store import census
from blocks.store.access_seals import POLICIES, TOKENS
from blocks.store.generation import Memo

if TYPE_CHECKING:
    from blocks.store.sealing import KeyringSealer
    from blocks.store.sql import SqlStore


class RowChecks:
    """The checks of :class:`~blocks.access.store.AccessStore` (a base class)."""

    store: SqlStore
    sealer: KeyringSealer
    cache: seals.CensusCache
    _parsed: dict[tuple[str, str], Policy]
    _seen: dict[tuple[Any, ...], Any]
    _census_memo: Memo[dict[str, tuple[int, str]]]

    def _check_token(self, row: tuple[Any, ...]) -> None:
        self.sealer.check(row[9], row[10], seals.token_message(row), seals.describe_token(row[1]))

    def _memo(self, key: tuple[Any, ...], verify: Callable[[], Any]) -> Any:
        """``verify()``'s result for a row whose bound fields, term and MAC are ``key``: a row
        byte-for-byte equal to one already checked is not checked again (a changed row is a
        new key)."""
        found = self._seen.get(key)
        if found is None:
            found = verify()
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = found
        return found

    def _token_member(self, row: tuple[Any, ...]) -> int:
        def verify() -> int:
            self._check_token(row)
            return seals.member(seals.token_message(row))

        return int(self._memo(("token", *row[:8], row[9], _bytes(row[10])), verify))

    def _policy_member(self, row: tuple[Any, ...]) -> int:
        def verify() -> int:
            message = seals.policy_message(row[0], row[1])
            self.sealer.check(row[3], row[4], message, seals.describe_policy(row[0]))
            return seals.member(message)

        return int(self._memo(("policy", row[0], row[1], row[3], _bytes(row[4])), verify))

    def _censuses(self, names: Sequence[str]) -> dict[str, tuple[int, str]]:
        """The verified ``(count, digest)`` of the named access censuses (one read; none
        while the database is unchanged: :mod:`blocks.store.generation`)."""
        found = self._census_memo.get(tuple(names), self.store.mark(),
                                      lambda: self._read_censuses(names))
        return dict(found)

    def _sealed(self) -> dict[str, tuple[int, str]] | None:
        """The token and policy censuses' verified values; ``None`` when there are none yet
        or they do not authenticate (the full check then says which)."""
        try:
            return self._censuses((TOKENS, POLICIES))
        except IntegrityError:
            return None

    def _read_censuses(self, names: Sequence[str]) -> dict[str, tuple[int, str]]:
        marks = ", ".join("?" for _ in names)
        rows = self.store._fetchall(
            "SELECT name, members, digest, mac_term, mac FROM sealed_census "  # noqa: S608
            f"WHERE name IN ({marks})", tuple(names))
        out: dict[str, tuple[int, str]] = {}
        for name, count, value, term, mac in rows:
            def verify(name: Any = name, count: Any = count, value: Any = value,
                       term: Any = term, mac: Any = mac) -> bool:
                self.sealer.check(term, mac, census.message(name, count, value),
                                  census.describe(name))
                return True

            self._memo(("census", name, count, value, term, _bytes(mac)), verify)
            out[str(name)] = (int(count), str(value))
        for name in names:
            if name not in out:
                raise IntegrityError(census.describe(name), "its sealed record is missing")
        return out

    def _confirm(self, name: str, members: Sequence[int],
                 sealed: tuple[int, str] | None = None) -> None:
        if sealed is None:
            sealed = self._censuses([name])[name]
        sql = seals.TOKEN_SELECT if name == TOKENS else seals.POLICY_SELECT

        def recount() -> list[int]:
            rows = [tuple(r) for r in self.store._fetchall(sql, ())]
            if name == TOKENS:
                return [seals.member(seals.token_message(r)) for r in rows]
            return [seals.member(seals.policy_message(r[0], r[1])) for r in rows]

        self.cache.confirm(name, sealed, members, recount)

    def _parse(self, name: str, document: str) -> Policy:
        key = (name, document)
        policy = self._parsed.get(key)
        if policy is None:
            policy = policy_docs.parse(name, json.loads(document))
            if len(self._parsed) > 1000:
                self._parsed.clear()
            self._parsed[key] = policy
        return policy


def _bytes(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value
