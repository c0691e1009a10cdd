"""The block pages are usable by keyboard, labelled, and fit a narrow window."""

from __future__ import annotations

from typing import Any

import pytest

from blocks import catalog
from tests.ui.conftest import UiServer, sign_in, unique

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length)
               && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML)"""


@pytest.fixture(scope="module")
def block_ref(ui_server: UiServer) -> str:
    creds = catalog.get("aws-credentials")(aws_access_key_id="AKIA" + "X" * 16,
                                           aws_secret_access_key="wJalr-layout")
    name = unique("layout-with-a-rather-long-name-to-wrap")
    ui_server.registry.save(creds, name)
    ui_server.registry.save(creds, name, overwrite=True, note="a note " * 30)
    return f"aws-credentials/{name}"


@pytest.mark.parametrize("width", [375, 1280])
def test_pages_fit_the_window_and_every_field_has_a_label(
        page: Any, ui_server: UiServer, block_ref: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, ui_server, ui_server.admin)
    for path in ("/blocks", f"/blocks/{block_ref}", f"/blocks/{block_ref}/diff?a=1&b=2",
                 "/sign-in"):
        page.goto(ui_server.ui(path))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, width, overflow)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("main#main").count() == 1


def test_the_keyboard_reaches_the_skip_link_first_and_the_reveal_button(
        page: Any, ui_server: UiServer, block_ref: str) -> None:
    sign_in(page, ui_server, ui_server.admin, after=f"/blocks/{block_ref}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(40):
        page.keyboard.press("Tab")
        if "reveal" in (page.evaluate("document.activeElement.className") or ""):
            break
    else:
        pytest.fail("the Reveal button is not reachable by keyboard")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.secret.revealed') !== null")
    assert page.locator(".secret.revealed").inner_text() == "wJalr-layout"
