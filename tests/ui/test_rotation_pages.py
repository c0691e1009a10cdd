"""The rotation pages in a real browser: rotate now on a generated secret (new version, stages,
the run's steps), set / change / remove a policy through the form with errors at their field,
what a read-metadata token sees and a forged rotate refused, the overview, accessibility."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from blocks import Secret
from blocks.rotation import RotationPolicy
from tests.ui.accessibility import check_page
from tests.ui.conftest import UiServer, sign_in, unique


def _secret(server: UiServer, value: str = "first-value-123") -> str:
    name = unique("rot")
    server.registry.save(Secret(value=value), name)
    return name


def _client(page: Any, server: UiServer) -> httpx.Client:
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    return httpx.Client(base_url=server.url, cookies=jar, follow_redirects=False,
                        headers={"origin": server.url})


def test_rotate_now_on_a_generated_secret_shows_the_new_version_and_its_events(
        page: Any, ui_server: UiServer) -> None:
    name = _secret(ui_server)
    ref = f"secret/{name}"
    ui_server.registry.rotation("test:setup").set_policy(
        ref, RotationPolicy(rotator="generated", interval="30d"))
    sign_in(page, ui_server, ui_server.admin, after=f"/rotation/secret/{name}")
    assert page.locator("#versions tbody tr").count() == 1
    page.get_by_role("button", name="Rotate now").click()
    page.wait_for_url(ui_server.ui(f"/rotation/secret/{name}"))
    expect(page.get_by_text("Rotation rotated: version 2 is current.")).to_be_visible()
    rows = page.locator("#versions tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").nth(0).inner_text() == "2"
    assert "current" in rows.nth(0).inner_text() and "previous" in rows.nth(1).inner_text()
    run = page.locator("article.run").first
    steps = run.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert steps == ["start", "create", "set", "test", "promote"]
    assert "by ui:ui-admin" in run.inner_text()  # the actor of the UI's calls
    new_value = ui_server.registry.load(ref).value.get_secret_value()
    assert new_value != "first-value-123"
    assert new_value not in page.content() and "first-value-123" not in page.content()
    assert page.locator("#next-due").inner_text().endswith("UTC")


def test_set_change_and_remove_a_policy_through_the_form(
        page: Any, ui_server: UiServer) -> None:
    name = _secret(ui_server)
    ref = f"secret/{name}"
    sign_in(page, ui_server, ui_server.admin, after=f"/rotation/secret/{name}")
    expect(page.locator("#no-policy")).to_be_visible()
    check_page(page)
    page.get_by_label("Rotator", exact=True).select_option("generated")
    page.locator("#f-interval").fill("soon")
    page.get_by_role("button", name="Save the policy").click()
    interval = page.locator("#f-interval")
    assert interval.get_attribute("aria-invalid") == "true"
    assert "is not a duration" in page.locator("#err-interval").inner_text()
    assert ui_server.registry.rotation("test").policy(ref) is None
    interval.fill("12h")
    page.locator("#f-options").fill('{"length": 40}')
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_text("Rotation policy saved.")).to_be_visible()
    stored = ui_server.registry.rotation("test").policy(ref)
    assert stored is not None and stored.policy.schedule() == "every 12h"
    assert stored.policy.options == {"length": 40}
    page.goto(ui_server.ui("/rotation"))
    row = page.locator("tr", has_text=ref)
    assert "every 12h" in row.inner_text() and "due now" in row.inner_text()
    check_page(page)
    row.get_by_role("link", name=ref).click()
    page.locator("#f-interval").fill("")
    page.locator("#f-cron").fill("0 3 * * 1")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_text("Rotation policy saved.")).to_be_visible()
    assert ui_server.registry.rotation("test").policy(ref).policy.schedule() == "cron 0 3 * * 1"  # type: ignore[union-attr]
    page.locator("#f-interval").fill("1d")
    page.get_by_role("button", name="Save the policy").click()  # interval and cron: refused
    assert "give interval or cron, not both" in page.locator("main").inner_text()
    page.get_by_role("button", name="Remove the policy").click()
    expect(page.get_by_text("Rotation policy removed")).to_be_visible()
    expect(page.locator("#no-policy")).to_be_visible()
    assert ui_server.registry.rotation("test").policy(ref) is None


def test_a_read_metadata_token_sees_the_rotation_but_cannot_rotate(
        page: Any, ui_server: UiServer) -> None:
    name = _secret(ui_server)
    ref = f"secret/{name}"
    ui_server.registry.rotation("test:setup").set_policy(
        ref, RotationPolicy(rotator="generated", interval="30d"))
    token = ui_server.token(unique("meta"), {"blocks": {"secret/*": ["read-metadata"]}})
    sign_in(page, ui_server, token, after=f"/rotation/secret/{name}")
    expect(page.get_by_text("every 30d")).to_be_visible()
    assert page.get_by_role("button", name="Rotate now").count() == 0
    assert page.get_by_role("button", name="Save the policy").count() == 0
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    with _client(page, ui_server) as client:
        forged = client.post(f"/ui/rotation/secret/{name}/rotate", data={"csrf": csrf})
        no_csrf = client.post(f"/ui/rotation/secret/{name}/policy/remove", data={})
    assert forged.status_code == 403 and "&#39;rotate&#39; capability" in forged.text
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    assert ui_server.registry.history(ref)[-1].version == 1  # nothing rotated
    assert ui_server.registry.rotation("test").policy(ref) is not None


def test_cancel_without_a_run_in_flight_says_so(page: Any, ui_server: UiServer) -> None:
    name = _secret(ui_server)
    ui_server.registry.rotation("test:setup").set_policy(
        f"secret/{name}", RotationPolicy(rotator="generated"))
    sign_in(page, ui_server, ui_server.admin, after=f"/rotation/secret/{name}")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    with _client(page, ui_server) as client:
        answer = client.post(f"/ui/rotation/secret/{name}/cancel", data={"csrf": csrf})
    assert answer.status_code == 400, answer.text[:500]  # the API's RotationError
    assert "nothing to cancel" in answer.text
