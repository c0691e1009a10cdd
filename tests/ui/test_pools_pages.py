"""The work pool pages in a real browser: list, detail with queues by priority, the base job
template editor (an error shown at its JSON path, nothing saved; a valid edit saved), queue
changes, a masked job preview, the Prefect status without a configured server, capabilities."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from blocks import Secret
from blocks.pools import WorkPool
from tests.ui.accessibility import check_page
from tests.ui.conftest import UiServer, sign_in, unique


def _pool(server: UiServer) -> tuple[str, str]:
    """A process pool whose job's env takes a secret from a block; returns (pool, secret)."""
    secret = unique("pool-secret")
    server.registry.save(Secret(value="hunter2-pool-value"), secret)
    name = unique("pool")
    pool = WorkPool(name=name, type="process", description="nightly <b>ETL</b>")
    template = pool.base_job_template
    template["job_configuration"]["env"] = {"API_TOKEN": f"{{{{ blocks.secret.{secret} }}}}"}
    WorkPool(name=name, type="process", description=pool.description,
             base_job_template=template).save(registry=server.registry)
    return name, secret


def test_the_list_and_the_pool_page_with_queues_and_a_masked_preview(
        page: Any, ui_server: UiServer) -> None:
    name, _ = _pool(ui_server)
    WorkPool.load(name, registry=ui_server.registry).create_queue(
        "urgent", priority=1, registry=ui_server.registry)
    sign_in(page, ui_server, ui_server.admin, after="/pools")
    check_page(page)
    row = page.locator("tr", has_text=name)
    assert "process" in row.inner_text() and "\t2\t" in row.inner_text()
    row.get_by_role("link", name=name).click()
    check_page(page)
    expect(page.get_by_text("nightly <b>ETL</b>")).to_be_visible()  # shown as text
    queues = page.locator("#queues tbody tr")
    assert [queues.nth(i).locator("td").nth(1).inner_text() for i in range(2)] == [
        "urgent", "default"]
    preview = page.locator("#preview").inner_text()
    assert json.loads(preview)["env"]["API_TOKEN"] == "********"
    assert "hunter2-pool-value" not in page.content()
    assert "Not configured" in page.locator("#prefect-status").inner_text()
    page.get_by_label("Queue", exact=True).select_option("urgent")
    page.get_by_label("Job variables as JSON", exact=False).fill('{"working_dir": "/srv/etl"}')
    page.get_by_role("button", name="Render the job").click()
    rendered = json.loads(page.locator("#preview").inner_text())
    assert rendered["working_dir"] == "/srv/etl" and rendered["env"]["API_TOKEN"] == "********"
    page.get_by_label("Job variables as JSON", exact=False).fill('{"working_dir": 7}')
    page.get_by_role("button", name="Render the job").click()
    assert "working_dir" in page.locator("#preview-error").inner_text()


def test_a_template_error_is_shown_at_its_json_path_and_nothing_is_saved(
        page: Any, ui_server: UiServer) -> None:
    name, _ = _pool(ui_server)
    sign_in(page, ui_server, ui_server.admin, after=f"/pools/{name}")
    template = json.loads(page.locator("#template").input_value())
    template["job_configuration"]["command"] = "{{ nmespace }}"
    page.locator("#template").fill(json.dumps(template, indent=2))
    page.get_by_role("button", name="Save the template").click()
    errors = page.locator("#template-errors")
    expect(errors).to_be_visible()
    assert errors.locator("code.path").first.inner_text() == "job_configuration.command"
    assert "nmespace" in errors.inner_text()
    assert page.locator("#template").get_attribute("aria-invalid") == "true"
    assert "{{ nmespace }}" in page.locator("#template").input_value()  # the edit is kept
    assert WorkPool.load(name, registry=ui_server.registry).version == 1
    page.locator("#template").fill("{ not json")
    page.get_by_role("button", name="Save the template").click()
    assert "not JSON" in errors.inner_text() and "line 1, column 3" in errors.inner_text()
    template["job_configuration"]["command"] = "python -m etl"
    page.locator("#template").fill(json.dumps(template))
    page.get_by_role("button", name="Save the template").click()
    expect(page.get_by_text("Saved version 2 of the template.")).to_be_visible()
    saved = WorkPool.load(name, registry=ui_server.registry)
    assert saved.base_job_template["job_configuration"]["command"] == "python -m etl"


def test_queues_are_added_reprioritised_and_deleted(page: Any, ui_server: UiServer) -> None:
    name, _ = _pool(ui_server)
    sign_in(page, ui_server, ui_server.admin, after=f"/pools/{name}")
    page.get_by_label("Name", exact=True).fill("backfill")
    page.get_by_label("Priority (empty", exact=False).fill("1")
    page.get_by_role("button", name="Add the queue").click()
    expect(page.get_by_text("Queue backfill added with priority 1.")).to_be_visible()
    queues = WorkPool.load(name, registry=ui_server.registry).queues(
        registry=ui_server.registry)
    assert [(q.name, q.priority) for q in queues] == [("backfill", 1), ("default", 2)]
    page.locator("#prio-default").fill("1")
    page.locator("tr", has_text="default").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Queue default saved (priority 1).")).to_be_visible()
    page.get_by_role("button", name="Delete backfill").click()
    expect(page.get_by_text("Queue backfill deleted.")).to_be_visible()
    assert page.locator("#queues tbody tr").count() == 1


def test_a_read_metadata_token_sees_the_pool_but_no_editor_and_a_forged_save_is_refused(
        page: Any, ui_server: UiServer) -> None:
    name, _ = _pool(ui_server)
    token = ui_server.token(unique("pool-meta"), {"pools": {name: ["read-metadata"]},
                                                  "blocks": {"secret/*": ["read-metadata"]}})
    sign_in(page, ui_server, token, after=f"/pools/{name}")
    assert page.get_by_role("button", name="Save the template").count() == 0
    assert page.get_by_role("button", name="Add the queue").count() == 0
    assert json.loads(page.locator("#preview").inner_text())["env"]["API_TOKEN"] == "********"
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=ui_server.url, cookies=jar, follow_redirects=False,
                      headers={"origin": ui_server.url}) as client:
        forged = client.post(f"/ui/pools/{name}/queues",
                             data={"csrf": csrf, "name": "sneaky"})
    assert forged.status_code == 403 and "&#39;write&#39; capability" in forged.text
    assert [q.name for q in WorkPool.load(name, registry=ui_server.registry).queues(
        registry=ui_server.registry)] == ["default"]


def test_an_unreachable_prefect_server_is_reported_not_fatal(
        page: Any, ui_server: UiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers import closed_port_url

    url = closed_port_url() + "/api"
    monkeypatch.setenv("BLOCKS_PREFECT_API_URL", url)
    name, _ = _pool(ui_server)
    sign_in(page, ui_server, ui_server.admin, after=f"/pools/{name}")
    assert url in page.locator("#prefect").inner_text()
    page.get_by_role("link", name="Compare with Prefect").click()
    assert page.locator("#prefect-status").inner_text() == "Could not compare with Prefect."
    assert "the check failed" in page.locator("#prefect pre").inner_text()
    page.get_by_role("button", name="Publish now").click()
    problem = page.locator("main .flash-error").first.inner_text()
    assert "is saved in Blocks, but publishing it to Prefect failed" in problem, problem
    expect(page.locator("#queues")).to_be_visible()  # the pool page still works


def test_a_bad_queue_field_is_named_and_nothing_changes(page: Any, ui_server: UiServer) -> None:
    name, _ = _pool(ui_server)
    sign_in(page, ui_server, ui_server.admin, after=f"/pools/{name}")
    page.get_by_label("Name", exact=True).fill("later")
    page.locator("#q-limit").fill("-3")
    page.get_by_role("button", name="Add the queue").click()
    problem = page.locator("main .flash-error").first.inner_text()
    assert "concurrency_limit" in problem, problem
    assert page.locator("#template-errors").count() == 0
    assert [q.name for q in WorkPool.load(name, registry=ui_server.registry).queues(
        registry=ui_server.registry)] == ["default"]
