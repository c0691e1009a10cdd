"""Rotation through a ``blocks server``: the same methods as :class:`blocks.rotation.Rotation`.

``RemoteRegistry.rotation(actor)`` returns it (through the ``rotation.remote`` hook: the HTTP
registry sits below rotation, as the local one does).

Rotation runs on the server, the only process with the master key and the rotators' upstream
credentials (an admin login named by the policy). This client sends the call and reads back
the same values the engine returns (:class:`~blocks.rotation.Outcome`,
:class:`~blocks.rotation.PolicyRecord`, :class:`~blocks.rotation.Event`). The server records
the actor as ``<kind>:<token name>`` (``cli:ci-deployer``): the kind is this client's
(``cli``, ``api``, ``terraform``), the name is the token's, not a name the client claims.

Example:
    >>> from blocks.registry_protocol import open_registry
    >>> open_registry().rotation("cli:alice").rotate("secret/api-token", force=True)
    ... # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from blocks.core import split_ref
from blocks.rotation.outcome import default_actor
from blocks.rotation_types.outcome import Outcome
from blocks.rotation_types.policy import RotationPolicy
from blocks.rotation_types.rows import Event, Listed, PolicyRecord

if TYPE_CHECKING:
    from blocks.remote.registry import RemoteRegistry
    from blocks.remote.transport import Transport


WORK_SECONDS = 600.0
"""How long a call that runs a rotation on the server (rotate, cancel, rotate-due) may take:
the rotators' upstream calls (IAM, a database, Vault) happen before the server answers."""


def _path(ref: str, tail: str = "") -> str:
    slug, name = split_ref(ref)
    return f"/v1/blocks/{slug}/{name}/rotation{tail}"


class RemoteRotation:
    """Rotation policies, runs and events of a server's registry.

    Args:
        registry: the remote registry (its transport carries the token and the fail-over).
        actor: who runs it, ``kind:user``; only the kind is sent (see the module docstring).
    """

    def __init__(self, registry: RemoteRegistry, actor: str | None = None) -> None:
        self.registry = registry
        self.actor = actor or default_actor()
        self._kind = self.actor.partition(":")[0] or "api"

    @property
    def _transport(self) -> Transport:
        transport: Transport = self.registry.transport
        return transport

    def _call(self, method: str, path: str, *, idempotent: bool, json: Any = None,
              params: dict[str, Any] | None = None, works: bool = False) -> Any:
        params = {**(params or {}), "actor": self._kind}
        response = self._transport.request(method, path, json=json, params=params,
                                           idempotent=idempotent,
                                           read_timeout=WORK_SECONDS if works else None)
        return response.json()

    # -- policies -------------------------------------------------------------------------

    def set_policy(self, ref: str, policy: RotationPolicy) -> PolicyRecord:
        """Validate ``policy`` for the block (on the server) and store it."""
        body = self._call("PUT", _path(ref), json=policy.model_dump(mode="json"),
                          idempotent=True)
        return PolicyRecord.from_wire(body["record"])

    def policy(self, ref: str) -> PolicyRecord | None:
        """The block's policy record, or ``None``."""
        record = self._call("GET", _path(ref), idempotent=True)["record"]
        return None if record is None else PolicyRecord.from_wire(record)

    def drop_policy(self, ref: str) -> bool:
        """Stop rotating the block (its history stays); ``False`` if it had no policy."""
        return bool(self._call("DELETE", _path(ref), idempotent=False)["dropped"])

    def promoted_versions(self, ref: str) -> set[int]:
        """Versions a recorded rotation promoted (the server checks the event chain)."""
        return {int(v) for v in self._call("GET", _path(ref, "/promoted"),
                                           idempotent=True)["versions"]}

    def events(self, ref: str) -> list[Event]:
        """The block's recorded rotation steps, oldest first."""
        return [Event.from_wire(e) for e in self._call("GET", _path(ref, "/events"),
                                                       idempotent=True)["events"]]

    def listing(self) -> list[Listed]:
        """Every block with a policy that the token may see, with its newest event."""
        return [Listed.from_wire(item) for item in self._call(
            "GET", "/v1/rotation/policies", idempotent=True)["policies"]]

    # -- running --------------------------------------------------------------------------

    def rotate(self, ref: str, *, force: bool = False) -> Outcome:
        """Rotate ``ref`` on the server if due (or ``force``), resuming an interrupted run.
        Retried after a lost answer only without ``force`` (a second try is then a no-op)."""
        return Outcome.from_wire(self._call("POST", _path(ref, "/rotate"),
                                            params={"force": str(force).lower()},
                                            idempotent=not force, works=True))

    def cancel(self, ref: str) -> Outcome:
        """Roll back the run in flight (on the server)."""
        return Outcome.from_wire(self._call("POST", _path(ref, "/cancel"), idempotent=False,
                                            works=True))

    def due(self) -> list[str]:
        """Refs of the blocks with something due that the token may see."""
        return [str(r) for r in self._call("GET", "/v1/rotation/due", idempotent=True)["due"]]

    def rotate_due(self, progress: Callable[[int, int, Outcome], None] | None = None
                   ) -> list[Outcome]:
        """Rotate, resume or revoke whatever is due and the token may rotate (on the server);
        ``progress`` is called for each outcome once the server answers."""
        outcomes = [Outcome.from_wire(o) for o in self._call(
            "POST", "/v1/rotation/due/rotate", idempotent=True, works=True)["outcomes"]]
        for i, outcome in enumerate(outcomes, 1):
            if progress is not None:
                progress(i, len(outcomes), outcome)
        return outcomes
