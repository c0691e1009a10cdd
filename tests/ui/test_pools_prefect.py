"""A pool page against a real Prefect server: compare (the bridge's plan: out of sync), publish
now, compare again (in sync); Prefect then holds the pool and its queues."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from blocks.integrations.prefect import PrefectClient
from blocks.pools import WorkPool
from tests.integrations.conftest import prefect_server  # noqa: F401 (the run's Prefect server)
from tests.servers import Server
from tests.ui.conftest import UiServer, sign_in, unique

pytestmark = [pytest.mark.prefect]


def test_compare_and_publish_a_pool_to_prefect(page: Any, ui_server: UiServer,
                                               prefect_server: Server,  # noqa: F811
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", prefect_server.url)
    name = unique("ui-pool")
    pool = WorkPool(name=name, type="process", description="published from the UI")
    pool.save(registry=ui_server.registry)
    pool.create_queue("urgent", priority=1, registry=ui_server.registry)
    sign_in(page, ui_server, ui_server.admin, after=f"/pools/{name}")
    try:
        page.get_by_role("link", name="Compare with Prefect").click()
        status = page.locator("#prefect-status")
        assert status.inner_text().startswith("Out of sync"), status.inner_text()
        assert f"+ work pool {name}" in page.locator("#prefect pre").inner_text()
        page.get_by_role("button", name="Publish now").click()
        expect(page.get_by_text("Published to Prefect.")).to_be_visible()
        page.get_by_role("link", name="Compare with Prefect").click()
        assert status.inner_text().startswith("In sync"), page.locator("#prefect").inner_text()
        with PrefectClient(prefect_server.url) as client:
            theirs = client.request("GET", f"work_pools/{name}", "the work pool")
            queues = client.request("POST", f"work_pools/{name}/queues/filter", "queues",
                                    json={})
        assert theirs["description"] == "published from the UI"
        assert {q["name"]: q["priority"] for q in queues} == {"urgent": 1, "default": 2}
    finally:
        with PrefectClient(prefect_server.url) as client:
            client.request("DELETE", f"work_pools/{name}", "the work pool", missing_ok=True)
