"""Two replicas over one database serve the same answers: nothing that decides an answer lives
only in one server's memory, and compare-and-set writers through both lose nothing."""

from __future__ import annotations

import threading
from pathlib import Path

from blocks import Registry, Secret, Settings
from blocks.errors import ConflictError
from blocks.remote.registry import RemoteRegistry
from blocks.server.security import ADMIN, static_authenticator
from tests.server_fixtures import remote_settings, serve

WRITERS = 4
WRITES = 6


def test_compare_and_set_writers_through_two_replicas_lose_nothing(blocks_home: Path) -> None:
    one = Registry(Settings(home=blocks_home))
    one.init()
    two = Registry(Settings(home=blocks_home))  # a second process's view of the same database
    auth = static_authenticator(ADMIN)
    with serve(one, auth) as first, serve(two, auth) as second:
        Secret(value="0").save("counter", registry=RemoteRegistry(remote_settings(first)))
        done: list[int] = []
        errors: list[BaseException] = []

        def writer(index: int) -> None:
            urls = f"{first},{second}" if index % 2 else f"{second},{first}"
            remote = RemoteRegistry(remote_settings(urls))
            try:
                for _ in range(WRITES):
                    while True:
                        current = remote.load("secret/counter")
                        assert current.block_version is not None
                        try:
                            Secret(value=str(int(current.get()) + 1)).save(
                                "counter", registry=remote,
                                expected_version=current.block_version)
                        except ConflictError:
                            continue  # someone wrote first: read again, retry
                        done.append(index)
                        break
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)
            finally:
                remote.close()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert len(done) == WRITERS * WRITES
        via_first = RemoteRegistry(remote_settings(first)).load("secret/counter")
        via_second = RemoteRegistry(remote_settings(second)).load("secret/counter")
    total = WRITERS * WRITES
    assert via_first.get() == via_second.get() == str(total)
    assert via_first.block_version == via_second.block_version == total + 1
    one.close()
    two.close()
