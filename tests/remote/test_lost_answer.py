"""A compare-and-set save whose answer is lost on the way back (the replica died after its commit,
a load balancer dropped the connection) is retried; the retry finds the version it expected
already moved. When its own unanswered try moved it, the save succeeded and says so (one
version written, not a ConflictError); when another writer did, the conflict stands, with a
hint to look. A real loopback proxy between the client and a real server loses the answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from blocks import Registry, Secret
from blocks.errors import ConflictError
from blocks.remote.registry import RemoteRegistry
from tests.server_fixtures import remote_settings

SECRET = "value-that-must-not-leak"


def _read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP/1.1 message (headers and a Content-Length body) from ``sock``."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value.strip())
    total = len(head) + 4 + length
    while len(buffer) < total:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    message = bytes(buffer[:total])
    del buffer[:total]
    return message


class LosingProxy:
    """Relays requests to ``upstream`` and their answers back, but for the first request whose
    first line starts with ``lose``: that one is forwarded (or, with ``forward=False``, not)
    and then ``meanwhile()`` runs and the client's connection is closed without an answer."""

    def __init__(self, upstream: str, lose: bytes, *, forward: bool = True,
                 meanwhile: Callable[[], None] = lambda: None) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.lose, self.forward, self.meanwhile = lose, forward, meanwhile
        self.lost = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        server = socket.create_connection(self.upstream)
        incoming, outgoing = bytearray(), bytearray()
        try:
            while True:
                request = _read_message(client, incoming)
                if request is None:
                    return
                losing = request.startswith(self.lose) and self.lost == 0
                if losing and not self.forward:
                    self.lost += 1
                    self.meanwhile()
                    return
                server.sendall(request)
                answer = _read_message(server, outgoing)
                if answer is None:
                    return
                if losing:
                    self.lost += 1
                    self.meanwhile()
                    return  # the commit happened; its answer never reaches the client
                client.sendall(answer)
        finally:
            client.close()
            server.close()

    def __enter__(self) -> LosingProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.listener.close()


@contextmanager
def client(url: str) -> Iterator[RemoteRegistry]:
    """A client of the server at ``url`` (only the API settings), closed after."""
    remote = RemoteRegistry(remote_settings(url))
    try:
        yield remote
    finally:
        remote.close()


@pytest.fixture
def direct(server_url: str) -> Iterator[RemoteRegistry]:
    """A client straight to the server, after it saved version 1 of secret/api."""
    with client(server_url) as remote:
        Secret(value="v1").save("api", registry=remote)
        yield remote


SAVE = b"POST /v1/blocks/secret/api "
ROLLBACK = b"POST /v1/blocks/secret/api/rollback "


def test_a_save_whose_answer_was_lost_after_its_commit_succeeds_once(
        server_url: str, served_registry: Registry, direct: RemoteRegistry) -> None:
    with LosingProxy(server_url, SAVE) as proxy, client(proxy.url) as remote:
        info = remote.save(Secret(value=SECRET), "api", overwrite=True, expected_version=1,
                           note="rotated")
    assert proxy.lost == 1
    assert (info.version, info.note) == (2, "rotated")
    assert [v.version for v in served_registry.history("secret/api")] == [1, 2]
    assert Secret.load("api", registry=direct).get() == SECRET


def test_a_lost_try_and_another_writers_version_stay_a_conflict(
        server_url: str, served_registry: Registry, direct: RemoteRegistry) -> None:
    def another_writer() -> None:
        Secret(value="theirs").save("api", registry=served_registry, overwrite=True)

    with LosingProxy(server_url, SAVE, forward=False, meanwhile=another_writer) as proxy, \
            client(proxy.url) as remote, pytest.raises(ConflictError) as caught:
        remote.save(Secret(value=SECRET), "api", overwrite=True, expected_version=1)
    assert proxy.lost == 1
    message = str(caught.value)
    assert "may have saved it as version 2" in message and "blocks history secret/api" in message
    assert SECRET not in message
    assert Secret.load("api", registry=direct).get() == "theirs"
    assert [v.version for v in served_registry.history("secret/api")] == [1, 2]


def test_a_plain_conflict_without_a_lost_try_is_unchanged(direct: RemoteRegistry) -> None:
    Secret(value="v2").save("api", registry=direct, overwrite=True)
    with pytest.raises(ConflictError) as caught:
        direct.save(Secret(value=SECRET), "api", overwrite=True, expected_version=1)
    assert not caught.value.after_unanswered_try
    assert "may have saved" not in str(caught.value)


def test_a_rollback_whose_answer_was_lost_after_its_commit_succeeds_once(
        server_url: str, served_registry: Registry, direct: RemoteRegistry) -> None:
    Secret(value="v2").save("api", registry=direct, overwrite=True)
    with LosingProxy(server_url, ROLLBACK) as proxy, client(proxy.url) as remote:
        info = remote.rollback("secret/api", 1, expected_version=2)
    assert proxy.lost == 1
    assert (info.version, info.note) == (3, "rollback to version 1")
    assert [v.version for v in served_registry.history("secret/api")] == [1, 2, 3]
    assert Secret.load("api", registry=direct).get() == "v1"


def test_a_lost_rollback_and_another_writers_version_stay_a_conflict(
        server_url: str, served_registry: Registry, direct: RemoteRegistry) -> None:
    Secret(value="v2").save("api", registry=direct, overwrite=True)

    def another_writer() -> None:
        Secret(value=SECRET).save("api", registry=served_registry, overwrite=True)

    with LosingProxy(server_url, ROLLBACK, forward=False, meanwhile=another_writer) as proxy, \
            client(proxy.url) as remote, pytest.raises(ConflictError) as caught:
        remote.rollback("secret/api", 1, expected_version=2)
    assert proxy.lost == 1
    message = str(caught.value)
    assert "this rollback got no answer and may have saved it as version 3" in message
    assert SECRET not in message
    assert Secret.load("api", registry=direct).get() == SECRET
