"""The one error tree of Blocks.

Every error the package raises on purpose derives from :class:`BlocksError`. Messages name the
block (``s3-bucket/data-lake``), the field path and the fix; they never contain a secret value.
Misuse of the low-level layers (a key of the wrong length, a wrong type) raises the ordinary
``TypeError``/``ValueError`` instead, as in pyca/cryptography.
"""

from __future__ import annotations

from collections.abc import Sequence


class BlocksError(Exception):
    """Base class of every error Blocks raises on purpose."""


class ConfigurationError(BlocksError):
    """A setting is missing or wrong (``BLOCKS_*`` environment, provider config).

    Attributes:
        field_errors: ``(setting, message)`` pairs when the settings failed validation.
    """

    field_errors: list[tuple[str, str]] = []


class BlockNotFound(BlocksError, LookupError, ValueError):
    """No block (or no such version of a block) exists under that name.

    Also a ``ValueError``, which is what Prefect raises for a missing block document, so code
    written for Prefect (``except ValueError``) keeps working.
    """


class RegistryNotFound(BlockNotFound, ConfigurationError):
    """No registry is at the configured place (``BLOCKS_HOME`` / ``BLOCKS_DATABASE_URL``).

    Reads raise it instead of creating an empty registry with a new master key, so that a
    mistyped location is an error naming the place; the first write (``save``,
    ``Registry.init``) creates one. A :class:`BlockNotFound` (so a ``ValueError``, as Prefect's
    missing block) and a :class:`ConfigurationError`.
    """


class InvalidArgument(BlocksError, ValueError):
    """An argument is out of range or malformed (a negative version, an S3 path with ``..``);
    the message names the argument and what is allowed."""


class UnknownBlockType(BlocksError, LookupError):
    """No registered block type has that slug."""


class WorkPoolNotFound(BlocksError, LookupError):
    """No work pool (or no such version of one) exists under that name."""


class WorkQueueNotFound(BlocksError, LookupError):
    """The work pool has no queue of that name."""


class InvalidName(BlocksError, ValueError):
    """A block, pool or queue name breaks the naming rule."""


class ValidationError(BlocksError, ValueError):
    """A block document (or pool template) does not validate.

    Attributes:
        ref: the block reference, e.g. ``s3-bucket/data-lake`` (may be empty for a new block).
        errors: one ``(path, message)`` pair per problem; paths are dot paths such as
            ``credentials.aws_access_key_id``.
    """

    def __init__(self, ref: str, errors: Sequence[tuple[str, str]]) -> None:
        self.ref = ref
        self.errors = list(errors)
        where = f"{ref}: " if ref else ""
        lines = "; ".join(f"{path or '(root)'}: {msg}" for path, msg in self.errors)
        super().__init__(f"{where}invalid document: {lines}")


class ReferenceChainError(BlocksError):
    """Loading a block went through more nested references than the bound allows.

    Not a ``ValueError``, so that it passes through the validation of every enclosing document
    unchanged instead of being wrapped once per level.
    """


class ConflictError(BlocksError):
    """Someone else wrote first (compare-and-set failed) or the name is taken."""

    after_unanswered_try = False
    """Set by the HTTP client when an earlier try of the same call reached a server and got
    no answer: that try may be what "wrote first" (``blocks.remote.landed``)."""


class BlockAlreadyExists(ConflictError, ValueError):
    """A block with that name exists and ``overwrite`` was not given.

    Also a ``ValueError``, as Prefect's error for a taken block name is.
    """


class ReferencedBlockError(ConflictError):
    """A block cannot be deleted because other blocks reference it."""

    def __init__(self, ref: str, referrers: Sequence[str]) -> None:
        self.ref = ref
        self.referrers = list(referrers)
        super().__init__(
            f"{ref} is referenced by {', '.join(self.referrers)}; "
            "delete or re-point those blocks first"
        )


class BlockNotSaved(BlocksError, RuntimeError, ValueError):
    """The operation needs a saved (or loaded) block, e.g. its placeholder or a nameless save."""


class DecryptionError(BlocksError):
    """Opaque: the ciphertext could not be opened.

    Raised for a wrong key, a wrong binding (ciphertext moved to another block or version),
    truncated or tampered data alike, always with the same message, so that the error tells an
    attacker nothing about which check failed.
    """

    MESSAGE = (
        "decryption failed: wrong master key, or the stored data was altered or moved"
    )

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class IntegrityError(BlocksError):
    """A stored record does not authenticate: the database was altered outside Blocks.

    Raised when a block's sealed head (name, current and latest version, stages), a version
    row, a work pool document or a queue fails its check. The message names the object and
    never echoes stored bytes; no secret is resolved once it is raised.
    """

    def __init__(self, what: str, detail: str = "does not authenticate") -> None:
        self.what = what
        super().__init__(
            f"integrity check failed for {what}: {detail}; the database may have been altered "
            "outside Blocks (run 'blocks verify' to list every problem)"
        )


class TokenNotFound(BlocksError, LookupError):
    """No API token of that name or id (HTTP 404)."""


class PolicyNotFound(BlocksError, LookupError):
    """No access policy of that name (HTTP 404)."""


class JwtConfigNotFound(BlocksError, LookupError):
    """No JWT issuer or role of that name (HTTP 404)."""


class RateLimited(BlocksError):
    """Too many failed authentications from one address (HTTP 429 with ``Retry-After``)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"too many failed authentications from this address; retry in {retry_after} s "
            "with a valid token (BLOCKS_API_TOKEN)")


class KeyProviderError(BlocksError):
    """The master-key provider is unreachable, refused, or misconfigured."""

    def __init__(self, provider: str, endpoint: str, reason: str) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"key provider {provider} at {endpoint}: {reason}")


class KeyringError(BlocksError):
    """The keyring cannot do what was asked (unknown term, term still in use, ...)."""


class StoreError(BlocksError):
    """The database is unreachable or its schema is not what this version expects."""


class RegistryLockedError(StoreError):
    """Another writer held the database's write lock for longer than the busy timeout."""

    def __init__(self, waited: float) -> None:
        self.waited = waited
        super().__init__(
            f"registry is locked by another writer; waited {waited:g} s. Retry when it is done"
        )


class BackupError(BlocksError):
    """A backup file cannot be written or read: wrong passphrase or key, a file that was
    altered, truncated or is not a Blocks backup, or a registry a backup cannot go into.

    The message names the file and the fix, never a stored value or a key.
    """


class RegistryNotEmpty(BackupError, ConflictError):
    """``blocks restore`` into a registry that already holds blocks, pools or events."""


class Unauthorized(BlocksError):
    """The server refused the request's credentials: no token, an unknown, expired or revoked
    one (HTTP 401). The message says which, never the token."""


class Forbidden(BlocksError):
    """The token is valid but lacks a capability on the object (HTTP 403); the message names
    the capability and the object, never a value."""


class ServerUnavailable(BlocksError):
    """No ``blocks server`` of ``BLOCKS_API_URL`` answered (after the client's retries and
    fail-over); the message names every server tried and the last reason."""


class AuditUnavailable(BlocksError):
    """The audit trail could not record an operation, so the operation was not done (HTTP 503):
    the database refused the record (locked, read-only, out of space). The message names the
    operation and the database error's class, never a value."""


class GitError(BlocksError):
    """A ``git`` command run by a block failed; the output is shown with secrets removed.

    Attributes:
        returncode: git's exit code.
        output: git's standard error, with tokens and credentials scrubbed.
    """

    def __init__(self, action: str, returncode: int, output: str) -> None:
        self.returncode = returncode
        self.output = output
        detail = f":\n{output.strip()}" if output.strip() else ""
        super().__init__(f"{action} failed (git exit code {returncode}){detail}")


class GitHubApiError(BlocksError):
    """GitHub's API (``GitHubCredentials.get_client``) was unreachable or refused a request;
    the message names the endpoint and the status, never the token."""


class RotationError(BlocksError):
    """A rotation step failed or cannot run; the message names the block, the step and the fix.

    Attributes:
        ref: the block, e.g. ``secret/db-pass``.
        step: ``create``, ``set``, ``test``, ``promote``, ``revoke``, ``cancel`` or ``policy``.
    """

    def __init__(self, ref: str, step: str, reason: str) -> None:
        self.ref = ref
        self.step = step
        self.reason = reason
        super().__init__(f"{ref}: rotation step {step}: {reason}")


class PrefectError(BlocksError):
    """The Prefect server is unreachable, refused a request, or holds something Blocks cannot
    take; the message names the server and the object."""


class MissingExtraError(BlocksError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.extra = extra
        super().__init__(
            f"{purpose} needs the '{package}' package: pip install 'blocks-registry[{extra}]'"
        )


class UnusualValueWarning(UserWarning):
    """A value was kept although it is unusual: the service would accept it (a legacy S3 bucket
    name with capitals or ``_``, a region name not in AWS's form). Not an error: filter it with
    ``warnings.filterwarnings("ignore", category=UnusualValueWarning)``."""


__all__ = [
    "BlockAlreadyExists",
    "BlockNotFound",
    "BlockNotSaved",
    "BlocksError",
    "ConfigurationError",
    "ConflictError",
    "DecryptionError",
    "Forbidden",
    "GitError",
    "IntegrityError",
    "InvalidArgument",
    "InvalidName",
    "KeyProviderError",
    "KeyringError",
    "MissingExtraError",
    "PolicyNotFound",
    "PrefectError",
    "RateLimited",
    "ReferenceChainError",
    "ReferencedBlockError",
    "RegistryLockedError",
    "RegistryNotFound",
    "RotationError",
    "ServerUnavailable",
    "StoreError",
    "TokenNotFound",
    "Unauthorized",
    "UnknownBlockType",
    "UnusualValueWarning",
    "ValidationError",
    "WorkPoolNotFound",
    "WorkQueueNotFound",
]
