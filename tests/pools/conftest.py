"""The pools suites on SQLite, on PostgreSQL, and through a ``blocks server`` (issue 20).

``registry`` gains a third parameter, ``http``: a :class:`~blocks.remote.registry.RemoteRegistry`
talking over HTTP to a real server on a fresh SQLite registry (``tests/server_fixtures.py``),
so ``WorkPool``/``WorkQueue`` go through ``/v1/pools`` and the blocks a render resolves through
``/v1/blocks``. Only the modules in :data:`THROUGH_SERVER` get it; the others edit rows in SQL
or drive the CLI on a local home, and keep the two databases.
"""

from __future__ import annotations

import pytest

from blocks.registry_protocol import RegistryProtocol

THROUGH_SERVER = frozenset({"test_models.py", "test_render.py", "test_render_masking.py"})
FIXTURES = {"sqlite": "sqlite_registry", "postgres": "pg_registry", "http": "http_registry"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "http"])
def registry(request: pytest.FixtureRequest) -> RegistryProtocol:
    """The same tests on both databases and, in :data:`THROUGH_SERVER`, through a server."""
    chosen: RegistryProtocol = request.getfixturevalue(FIXTURES[request.param])
    return chosen


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the ``http`` runs of the modules that are not in :data:`THROUGH_SERVER`."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        local_only = item.path.parent.name == "pools" and item.path.name not in THROUGH_SERVER
        if local_only and callspec is not None and callspec.params.get("registry") == "http":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
