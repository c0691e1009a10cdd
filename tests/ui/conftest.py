"""Fixtures of the web UI's browser tests: a real ``blocks server`` and Debian's chromium.

* ``ui_server`` (per module): the server app with token authentication (the API's own
  authenticator) over a fresh SQLite registry, on uvicorn on loopback. ``.url``,
  ``.registry`` (the server's registry: save blocks "from the Python API" with it),
  ``.token(name, policy_document)`` (a new policy and a token holding it) and ``.admin``
  (a token with the ``admin`` policy).
* ``browser`` (per session): chromium from ``/usr/bin/chromium``, never a downloaded one.
  Without it the tests skip, and under ``CI=true`` they fail.
* ``page``: a fresh browser context and page per test (the CSP bypassed, see there);
  :func:`sign_in` signs it in.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from blocks import Registry, Settings
from blocks.access import policies
from tests.server_fixtures import serve_app

CHROMIUM = Path(os.environ.get("BLOCKS_TEST_CHROMIUM", "/usr/bin/chromium"))


@dataclass
class UiServer:
    """A running server with the UI, and the registry behind it."""

    url: str
    registry: Registry
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, name: str, document: dict[str, Any]) -> str:
        """A new token named ``name`` holding a new policy ``document`` (same name)."""
        access = self.registry.access()
        access.put_policy(name, policies.parse(name, document))
        token, _ = access.create_token(name, [name])
        self.tokens[name] = token
        return token

    @property
    def admin(self) -> str:
        """A token with the ``admin`` policy (made on first use)."""
        if "ui-admin" not in self.tokens:
            self.token("ui-admin", {"admin": True})
        return self.tokens["ui-admin"]

    def ui(self, path: str = "") -> str:
        """The absolute URL of a UI path (``"/blocks"`` -> ``http://.../ui/blocks``)."""
        return f"{self.url}/ui{path}"


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """A real blocks server (token authentication, the UI at /ui) for one test module."""
    from blocks.server.app import create_app

    home = tmp_path_factory.mktemp("ui-server")
    registry = Registry(Settings(home=home))
    registry.init()
    try:
        with serve_app(create_app(registry)) as url:
            yield UiServer(url, registry)
    finally:
        registry.close()


class SharedBrowser:
    """Debian's chromium driven by Playwright, shared by the browser tests that run one after
    another in a process, and stopped before any other test runs there
    (:func:`pytest_runtest_teardown`): while Playwright's sync API is started, its event loop
    counts as running in this thread, so a later ``asyncio.run`` would fail."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def get(self) -> Any:
        """The browser, launched on first use."""
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            except BaseException:
                self.stop()
                raise
        return self._browser

    def stop(self) -> None:
        """Close the browser and stop Playwright (its event loop with it)."""
        browser, self._browser = self._browser, None
        playwright, self._playwright = self._playwright, None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


_shared = SharedBrowser()
UI_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a browser test's own teardown (its page closed): stop the shared browser unless
    the next test of this process is a browser test too."""
    yield
    if nextitem is None or UI_TESTS not in Path(str(nextitem.path)).resolve().parents:
        _shared.stop()


@pytest.fixture
def browser() -> Any:
    """Debian's chromium driven by Playwright (:class:`SharedBrowser`)."""
    if not CHROMIUM.exists():
        message = (f"the browser tests need Debian's chromium at {CHROMIUM} "
                   "(apt-get install chromium; scripts/test.sh installs it)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the browser tests need playwright (the dev extra)")
        pytest.skip("the browser tests need playwright (the dev extra)")
    return _shared.get()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh context (no cookies) and page; fails the test on a page error (a script
    exception) so a broken ui.js cannot pass unnoticed."""
    # bypass_csp: the pages' Content-Security-Policy (no inline script) is tested on its own
    # (test_session.py); with it off, the XSS tests check the escaping itself, and Playwright
    # may evaluate its wait_for_function predicates.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    # 30 s: CI runs four test processes on two cores beside Terraform and Prefect; a page
    # load there once took over 10 s (speed is measured in benchmarks/ui_pages.py).
    context.set_default_timeout(30_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # expect(...) waits as long as the page's actions do
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"script errors on the page: {errors}"


def sign_in(page: Any, server: UiServer, token: str, after: str = "/blocks") -> None:
    """Sign ``page`` in through the sign-in form with ``token``."""
    page.goto(server.ui(f"/sign-in?next=/ui{after}"))
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.ui(after) + "*")


def unique(prefix: str = "b") -> str:
    """A block name no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"
