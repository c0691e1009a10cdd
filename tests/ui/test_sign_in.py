"""Sign-in, the session cookie, sign-out, CSRF and the Origin check, in a real browser."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ui.conftest import UiServer, sign_in


def test_unsigned_visit_goes_to_sign_in_and_back(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.ui("/blocks"))
    assert "/ui/sign-in" in page.url
    page.get_by_label("API token").fill(ui_server.admin)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(ui_server.ui("/blocks"))
    expect(page.get_by_role("heading", name="Blocks")).to_be_visible()
    expect(page.get_by_text("signed in as ui-admin")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "blocks_ui")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    assert ui_server.admin not in cookie["value"]  # encrypted, never the token itself
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(ui_server.ui("/sign-in") + "*")
    assert not [c for c in page.context.cookies() if c["name"] == "blocks_ui"]
    page.goto(ui_server.ui("/blocks"))
    assert "/ui/sign-in" in page.url


def test_a_bad_token_is_refused_with_a_message(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.ui("/sign-in"))
    page.get_by_label("API token").fill("blk_" + "0" * 43)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-error")).to_be_visible()
    assert "sign-in refused" in page.locator("#sign-in-error").inner_text()
    assert not [c for c in page.context.cookies() if c["name"] == "blocks_ui"]


def test_revoking_the_token_ends_the_session_at_once(page: Any, ui_server: UiServer) -> None:
    token = ui_server.token("revoked-soon", {"blocks": {"*/*": ["read"]}})
    sign_in(page, ui_server, token)
    ui_server.registry.access().revoke("revoked-soon")
    page.goto(ui_server.ui("/blocks"))
    assert "/ui/sign-in" in page.url
    expect(page.get_by_text("your session ended")).to_be_visible()


def _cookie_client(page: Any, server: UiServer) -> httpx.Client:
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    return httpx.Client(base_url=server.url, cookies=jar, follow_redirects=False)


def test_a_post_without_the_csrf_token_is_refused(page: Any, ui_server: UiServer) -> None:
    sign_in(page, ui_server, ui_server.admin)
    with _cookie_client(page, ui_server) as client:
        own = {"origin": ui_server.url}
        refused = client.post("/ui/sign-out", data={}, headers=own)
        assert refused.status_code == 403
        assert "CSRF token" in refused.text
        wrong = client.post("/ui/sign-out", data={"csrf": "x" * 43}, headers=own)
        assert wrong.status_code == 403
        csrf = page.locator("input[name=csrf]").first.get_attribute("value")
        foreign = client.post("/ui/sign-out", data={"csrf": csrf},
                              headers={"origin": "http://evil.example"})
        assert foreign.status_code == 403 and "Origin/Referer" in foreign.text
        none = client.post("/ui/sign-out", data={"csrf": csrf})
        assert none.status_code == 403
        ok = client.post("/ui/sign-out", data={"csrf": csrf}, headers=own)
        assert ok.status_code == 303


def test_a_session_cookie_from_another_registry_is_no_session(ui_server: UiServer) -> None:
    with httpx.Client(base_url=ui_server.url, follow_redirects=False) as client:
        client.cookies.set("blocks_ui", "AAAAAQ" + "A" * 80, path="/ui")
        answer = client.get("/ui/blocks")
    assert answer.status_code == 303 and "/ui/sign-in" in answer.headers["location"]
