"""The ``postgres-password`` rotator: ``ALTER ROLE ... PASSWORD`` through a separate admin block.

Strategies:

* ``single-user``: the block's role gets a new password. Between ``set`` and promotion only
  the pending password works (promotion follows at once); the old one stops working at ``set``.
* ``alternating-users`` (two roles, by default ``app`` and ``app_clone``): each rotation gives
  the idle role a new password and makes it current, so holders of the previous credential
  keep working through the grace; ``revoke`` then removes the previous role's password.

The password is sent hashed (SCRAM-SHA-256 verifier computed by libpq), so it never appears in
the server's statement log. The admin block is a reference, never the rotated credentials.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from blocks.core import Block, split_ref
from blocks.errors import RotationError, ValidationError
from blocks.rotation.base import RotationContext, with_value
from blocks.rotation.generated import PasswordPolicy
from blocks.types._rules import import_extra

CLONE_SUFFIX = "_clone"


class PostgresOptions(BaseModel):
    """Options of ``postgres-password``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admin_block: str = Field(
        description="database-credentials block (slug/name) of a role allowed to ALTER ROLE "
        "the rotated role(s); never the rotated block itself."
    )
    strategy: Literal["single-user", "alternating-users"] = Field(
        default="single-user", description="single-user or alternating-users."
    )
    users: tuple[str, str] | None = Field(
        default=None,
        description="alternating-users: the two roles; default (<user>, <user>_clone).",
    )
    password: PasswordPolicy = Field(
        default_factory=PasswordPolicy, description="How new passwords look."
    )


def _creds(block: Block) -> Any:
    from blocks.types.database import DatabaseCredentials

    assert isinstance(block, DatabaseCredentials)
    return block


def connect(block: Block, ref: str) -> Any:
    """A psycopg connection from a ``DatabaseCredentials`` block (its parts or its url)."""
    psycopg = import_extra("psycopg", package="psycopg", extra="postgres",
                           purpose="postgres-password rotation")
    url = _creds(block).url()
    if not url.drivername.startswith("postgresql"):
        raise RotationError(ref, "test", f"{url.drivername} is not PostgreSQL")
    try:
        return psycopg.connect(
            host=url.host, port=url.port, dbname=url.database, user=url.username,
            password=url.password, connect_timeout=10, autocommit=True,
            **{k: v for k, v in url.query.items() if isinstance(v, str)},
        )
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "refused"
        raise RotationError(ref, "test", f"cannot sign in as {url.username} at "
                            f"{url.host}:{url.port}: {reason}") from None


class PostgresPasswordRotator:
    """New passwords for PostgreSQL roles, single-user or alternating-users."""

    name: ClassVar[str] = "postgres-password"
    options_model: ClassVar[type[BaseModel]] = PostgresOptions

    def fields(self, block_type: type[Block], options: BaseModel) -> tuple[str, ...]:
        """The password; with alternating-users the user name too."""
        assert isinstance(options, PostgresOptions)
        return ("password", "username") if options.strategy == "alternating-users" else (
            "password",)

    def check(self, block_type: type[Block], options: BaseModel) -> None:
        from blocks.types.database import DatabaseCredentials

        assert isinstance(options, PostgresOptions)
        problems = []
        if not issubclass(block_type, DatabaseCredentials):
            problems.append(("rotator", "postgres-password rotates database-credentials blocks"))
        if split_ref(options.admin_block)[0] != "database-credentials":
            problems.append(("options.admin_block", "must name a database-credentials block"))
        if options.users is not None and options.users[0] == options.users[1]:
            problems.append(("options.users", "the two roles must differ"))
        if problems:
            raise ValidationError(f"rotation of {block_type.block_type_slug}", problems)

    def _options(self, ctx: RotationContext) -> PostgresOptions:
        assert isinstance(ctx.options, PostgresOptions)
        return ctx.options

    def _admin(self, ctx: RotationContext, step: str) -> Any:
        options = self._options(ctx)
        if options.admin_block == ctx.ref:
            raise RotationError(ctx.ref, step, "options.admin_block must be another block")
        admin = ctx.registry.load(options.admin_block)
        if _creds(admin).username == _creds(ctx.current).username:
            raise RotationError(ctx.ref, step, "the admin block signs in as the rotated role; "
                                "use a separate admin role")
        return connect(admin, ctx.ref)

    def _set_password(self, ctx: RotationContext, step: str, user: str,
                      password: str | None) -> None:
        from psycopg import sql

        with self._admin(ctx, step) as conn:
            if password is None:
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD NULL").format(sql.Identifier(user)))
                return
            verifier = conn.pgconn.encrypt_password(
                password.encode(), user.encode(), b"scram-sha-256"
            ).decode()
            conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(verifier)))

    def _pair(self, ctx: RotationContext) -> tuple[str, str]:
        options = self._options(ctx)
        if options.users is not None:
            return options.users
        user = str(_creds(ctx.current).username)
        base = user.removesuffix(CLONE_SUFFIX)
        return base, base + CLONE_SUFFIX

    def create(self, ctx: RotationContext) -> Block:
        current = _creds(ctx.current)
        if current.url_ is not None:
            raise RotationError(ctx.ref, "create", "give the block's URL parts (username, "
                                "password, host...) instead of url to rotate its password")
        user = current.username
        if self._options(ctx).strategy == "alternating-users":
            first, second = self._pair(ctx)
            if user not in (first, second):
                raise RotationError(ctx.ref, "create", f"the current role {user} is neither "
                                    f"{first} nor {second} (options.users)")
            user = second if user == first else first
        pending = with_value(ctx.current, "username", user)
        return with_value(pending, "password", self._options(ctx).password.generate())

    def set(self, ctx: RotationContext) -> None:
        pending = _creds(ctx.require_pending())
        self._set_password(ctx, "set", pending.username, pending.password.get_secret_value())

    def test(self, ctx: RotationContext) -> None:
        pending = _creds(ctx.require_pending())
        with connect(pending, ctx.ref) as conn:
            who = conn.execute("SELECT current_user").fetchone()[0]
        if who != pending.username:
            raise RotationError(ctx.ref, "test", f"signed in as {who}, not {pending.username}")

    def revoke(self, ctx: RotationContext) -> None:
        previous, current = _creds(ctx.require_previous()), _creds(ctx.current)
        if previous.username != current.username:
            self._set_password(ctx, "revoke", previous.username, None)
        # single-user: the old password stopped working when the new one was set.

    def cancel(self, ctx: RotationContext) -> None:
        pending, current = _creds(ctx.require_pending()), _creds(ctx.current)
        if pending.username == current.username:
            self._set_password(ctx, "cancel", current.username,
                               current.password.get_secret_value())
        else:
            self._set_password(ctx, "cancel", pending.username, None)
