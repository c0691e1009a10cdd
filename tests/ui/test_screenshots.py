"""Screenshots of the UI's main pages, taken in a real browser over a seeded registry.

Every run takes them into a temporary directory and checks each is a real page (status 200,
a sizeable PNG); with ``BLOCKS_UI_SCREENSHOTS=1`` they are also copied to
``docs/images/ui-*.png``, the pictures docs/ui.md shows — so the committed ones are made here:

    BLOCKS_UI_SCREENSHOTS=1 .venv/bin/python -m pytest tests/ui/test_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from blocks import Secret, catalog
from blocks.pools import WorkPool
from blocks.rotation import RotationPolicy
from tests.ui.conftest import UiServer, sign_in

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
WRITE = os.environ.get("BLOCKS_UI_SCREENSHOTS") == "1"
PAGES = {
    "blocks": "/blocks",
    "block": "/blocks/s3-bucket/data-lake",
    "edit": "/blocks/aws-credentials/lake-writer/edit",
    "diff": "/blocks/aws-credentials/lake-writer/diff?a=1&b=2",
    "rotation": "/rotation/secret/api-token",
    "pool": "/pools/etl-process",
    "audit": "/admin/audit",
    "tokens": "/admin/tokens",
}


@pytest.fixture(scope="module")
def gallery(ui_server: UiServer) -> UiServer:
    """A registry that looks used: credentials and a bucket nesting them (edited once), a
    rotated secret, a database login, a work pool with queues, a reader's token."""
    registry = ui_server.registry
    aws = catalog.get("aws-credentials")
    creds = aws(aws_access_key_id="AKIAEXAMPLEKEY", aws_secret_access_key="wJalr-example",
                region_name="eu-west-1")
    registry.save(creds, "lake-writer")
    registry.save(aws(aws_access_key_id="AKIAEXAMPLEKEY2", aws_secret_access_key="wJalr-2",
                      region_name="eu-central-1"), "lake-writer", overwrite=True)
    bucket = catalog.get("s3-bucket")(bucket_name="data-lake-raw", bucket_folder="orders",
                                      credentials=registry.load("aws-credentials/lake-writer"))
    registry.save(bucket, "data-lake")
    registry.save(Secret(value="initial-api-token"), "api-token")
    rotation = registry.rotation("cli:ops")
    rotation.set_policy("secret/api-token", RotationPolicy(rotator="generated", interval="30d",
                                                           options={"length": 40}))
    rotation.rotate("secret/api-token", force=True)
    pool = WorkPool(name="etl-process", type="process", description="Nightly ETL runs")
    pool.save(registry=registry)
    pool.create_queue("urgent", priority=1, registry=registry)
    pool.create_queue("backfill", registry=registry, concurrency_limit=2)
    ui_server.token("etl-reader", {"description": "the ETL flows",
                                   "blocks": {"s3-bucket/*": ["read"]}})
    return ui_server


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot_of_each_main_page(name: str, page: Any, gallery: UiServer,
                                      tmp_path: Path) -> None:
    sign_in(page, gallery, gallery.admin)
    if name == "audit":  # a reveal through the UI: recorded as the signed-in token, via ui
        page.goto(gallery.ui("/blocks/aws-credentials/lake-writer"))
        page.get_by_role("button", name="Reveal").first.click()
        page.wait_for_selector(".secret.revealed")
    answer = page.goto(gallery.ui(PAGES[name]))
    assert answer is not None and answer.status == 200, (name, answer and answer.status)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    shot = tmp_path / f"ui-{name}.png"
    page.screenshot(path=str(shot), full_page=False)
    assert _png_size(shot) == (1280, 800)
    assert shot.stat().st_size > 20_000  # a page, not a blank
    assert "wJalr" not in page.content()  # secrets masked in what the picture shows
    if WRITE:
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMAGES / shot.name)
