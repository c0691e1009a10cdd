"""The admin pages in a real browser: policies from JSON (errors at their JSON path), a token
created (shown once) and revoked, a policy in use refused deletion, non-admins refused, and
the audit trail listing the UI's reveals and edits with its filters."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from blocks import Secret
from tests.ui.accessibility import check_page
from tests.ui.conftest import UiServer, sign_in, unique


def _authenticates(server: UiServer, token: str) -> bool:
    answer = httpx.get(f"{server.url}/v1/blocks", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


def _put_policy(page: Any, name: str, document: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Document as JSON", exact=False).fill(document)
    page.get_by_role("button", name="Save the policy").click()


def test_a_policy_with_errors_shows_them_at_their_json_path_then_saves(
        page: Any, ui_server: UiServer) -> None:
    policy = unique("pol")
    sign_in(page, ui_server, ui_server.admin, after="/admin/policies")
    check_page(page)
    _put_policy(page, policy, '{"blocks": {"secret/*": ["reed"]}, "colour": 1}')
    errors = page.locator("#policy-errors")
    paths = errors.locator("code.path").all_inner_texts()
    assert '$.blocks["secret/*"][0]' in paths and "$.colour" in paths, paths
    assert page.get_by_label("Document as JSON", exact=False).get_attribute(
        "aria-invalid") == "true"
    assert policy not in ui_server.registry.access().policies()
    _put_policy(page, policy, '{"blocks": {"secret/*": ["read"]}, "description": "readers"}')
    expect(page.get_by_text(f"Policy {policy} saved.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Policy {policy}")).to_be_visible()
    check_page(page)
    stored = ui_server.registry.access().get_policy(policy)
    assert dict(stored.document)["blocks"] == {"secret/*": ["read"]}


def test_a_token_is_shown_once_and_revoked(page: Any, ui_server: UiServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    policy, name = unique("pol"), unique("tok")
    ui_server.token(policy, {"blocks": {"secret/*": ["read-metadata"]}})
    sign_in(page, ui_server, ui_server.admin, after="/admin/tokens")
    check_page(page)
    page.get_by_label("Name (lower-case", exact=False).fill(name)
    page.get_by_label(policy, exact=True).check()
    page.get_by_label("Time to live", exact=False).fill("1d")
    page.get_by_role("button", name="Create the token").click()
    expect(page.get_by_role("heading", name=f"Token {name} created")).to_be_visible()
    check_page(page)
    token = page.get_by_label("The token", exact=False).input_value()
    assert token.startswith("blk_") and _authenticates(ui_server, token)
    page.get_by_role("link", name="Back to the tokens").click()
    assert token not in page.content()  # shown once: never again
    row = page.locator(f"#token-{name}")
    assert row.locator(".state").inner_text() == "active" and policy in row.inner_text()
    row.get_by_role("button", name=f"Revoke {name}").click()
    expect(page.get_by_text(f"Token {name} revoked.")).to_be_visible()
    assert page.locator(f"#token-{name} .state").inner_text() == "revoked"
    assert not _authenticates(ui_server, token)
    assert token not in caplog.text  # in the page's answer once, never in a log
    assert all(token not in str(e.to_json()) for e in ui_server.registry.audit.ls(limit=50))


def test_token_form_errors_and_a_policy_in_use_cannot_be_deleted(
        page: Any, ui_server: UiServer) -> None:
    policy = unique("pol")
    ui_server.token(policy, {"blocks": {"secret/*": ["read"]}})  # a live token holds it
    sign_in(page, ui_server, ui_server.admin, after="/admin/tokens")
    page.get_by_label("Name (lower-case", exact=False).fill("Not A Name")
    page.get_by_role("button", name="Create the token").click()
    assert page.locator(".flash-error").count() >= 1
    assert "blk_" not in page.content()
    page.goto(ui_server.ui(f"/admin/policies/{policy}"))
    page.get_by_role("button", name="Delete the policy").click()
    assert policy in page.locator("main").inner_text()
    assert policy in ui_server.registry.access().policies()


def test_admin_pages_refuse_a_token_without_admin(page: Any, ui_server: UiServer) -> None:
    plain = unique("plain")
    token = ui_server.token(plain, {"blocks": {"*/*": ["read"]}})
    sign_in(page, ui_server, token)
    for path in ("/admin", "/admin/tokens", "/admin/policies", "/admin/audit"):
        answer = page.goto(ui_server.ui(path))
        assert answer is not None and answer.status == 403, path
        assert "admin" in page.locator("main").inner_text()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=ui_server.url, cookies=jar, follow_redirects=False,
                      headers={"origin": ui_server.url}) as client:
        forged = client.post("/ui/admin/tokens", data={"csrf": csrf, "name": "mine",
                                                       "policies": "admin"})
    assert forged.status_code == 403 and "blk_" not in forged.text
    assert "mine" not in {t.name for t in ui_server.registry.access().list_tokens()}
    denied = list(ui_server.registry.audit.ls(actor=plain, denied=True))
    assert {e.action for e in denied} >= {"token-create"}, denied  # the forged POST
    assert all(e.actor.via == "ui" for e in denied)


def test_the_audit_page_lists_the_reveals_and_edits_with_filters(
        page: Any, ui_server: UiServer) -> None:
    name = unique("audited")
    ref = f"secret/{name}"
    ui_server.registry.save(Secret(value="audited-value-1"), name)
    sign_in(page, ui_server, ui_server.admin, after=f"/blocks/secret/{name}")
    page.get_by_role("button", name="Reveal").first.click()
    page.goto(ui_server.ui(f"/rotation/secret/{name}"))
    page.locator("#f-interval").fill("30d")
    page.get_by_role("button", name="Save the policy").click()
    page.get_by_role("button", name="Rotate now").click()
    expect(page.get_by_text("Rotation rotated")).to_be_visible()
    page.goto(ui_server.ui(f"/admin/audit?ref={ref}"))
    check_page(page)
    rows = page.locator("#audit tbody tr")
    actions = {rows.nth(i).locator("td").nth(3).inner_text() for i in range(rows.count())}
    assert {"reveal", "write", "promote"} <= actions, actions
    ui_rows = page.locator("#audit tbody tr", has_text="token:ui-admin")
    assert ui_rows.count() >= 2 and "ui" in ui_rows.first.inner_text()
    assert "audited-value-1" not in page.content()
    page.get_by_label("Action").select_option("reveal")
    page.get_by_role("button", name="Filter").click()
    shown = page.locator("#audit tbody tr td:nth-child(4)").all_inner_texts()
    assert shown == ["reveal"], shown
    page.get_by_label("Actor").fill("token:nobody")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No record matches.")).to_be_visible()
    page.goto(ui_server.ui("/admin/audit?since=soonish"))
    expect(page.locator(".flash-error")).to_be_visible()


def test_the_sign_in_form_in_tab_order(page: Any, ui_server: UiServer) -> None:
    def focused() -> str:
        return str(page.evaluate("() => document.activeElement.id || "
                                 "document.activeElement.textContent.trim()"))

    page.goto(ui_server.ui("/sign-in"))
    # The one field has the focus on arrival, with no key pressed. Chromium applies
    # `autofocus` in a rendering step after the load event: on a loaded machine the first
    # look came before it (the body had the focus), so the test waits for it (up to 10 s).
    page.wait_for_function("() => document.activeElement && document.activeElement.id"
                           " === 'token'", timeout=10_000)
    assert focused() == "token"
    page.keyboard.press("Tab")
    assert focused() == "Sign in"
    page.keyboard.press("Shift+Tab")
    assert focused() == "token"
    page.keyboard.press("Shift+Tab")
    assert focused() == "Blocks"  # the header's home link
    page.keyboard.press("Shift+Tab")
    assert focused() == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type(ui_server.admin)
    page.keyboard.press("Enter")
    page.wait_for_url(ui_server.ui("/blocks") + "*")


def test_the_rotation_pool_and_admin_pages_fit_a_narrow_window(
        page: Any, ui_server: UiServer) -> None:
    name = unique("narrow")
    ui_server.registry.save(Secret(value="narrow-value-1"), name)
    from blocks.pools import WorkPool

    WorkPool(name=name, type="process").save(registry=ui_server.registry)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, ui_server, ui_server.admin, after="/rotation")
    for path in ("/rotation", f"/rotation/secret/{name}", "/pools", f"/pools/{name}",
                 "/admin", "/admin/tokens", "/admin/policies", "/admin/policies/ui-admin",
                 "/admin/audit"):
        answer = page.goto(ui_server.ui(path))
        assert answer is not None and answer.status == 200, path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        check_page(page)
