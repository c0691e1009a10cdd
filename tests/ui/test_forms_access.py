"""The schema forms without JavaScript, and their access checks (the HTTP API's): ``write`` on
the block, ``read-metadata`` on each block it references, ``read`` + ``write`` to edit."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from blocks import AwsCredentials, S3Bucket
from blocks.errors import BlockNotFound
from tests.ui.conftest import UiServer, sign_in, unique
from tests.ui.test_sign_in import _cookie_client

SECRET = "no-js-secret-value-1"


@pytest.fixture
def no_js_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(30_000)  # see tests/ui/conftest.py: page
    try:
        yield context.new_page()
    finally:
        context.close()


def _saved_credentials(server: UiServer) -> str:
    name = unique("creds")
    server.registry.save(AwsCredentials(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                                        aws_secret_access_key=SECRET), name)
    return name


def test_a_block_reference_is_picked_without_javascript(no_js_page: Any,
                                                         ui_server: UiServer) -> None:
    page = no_js_page
    creds = _saved_credentials(ui_server)
    bucket = unique("nojs")
    sign_in(page, ui_server, ui_server.admin)
    page.goto(ui_server.ui("/blocks/new?type=s3-bucket"))
    expect(page.locator("select[name='credentials.$ref']")).to_be_hidden()  # member hidden
    page.get_by_label("Block name").fill(bucket)
    page.get_by_label("Bucket Name").fill("acme-nojs")
    page.get_by_label("Kind of Credentials").select_option(label="A saved block")
    page.locator("#f-credentials").get_by_role("button", name="Show its fields").click()
    picker = page.locator("select[name='credentials.$ref']")
    expect(picker).to_be_visible()
    assert page.get_by_label("Bucket Name").input_value() == "acme-nojs"  # nothing lost
    picker.select_option(f"aws-credentials/{creds}")
    page.get_by_role("button", name="Create S3Bucket").click()
    page.wait_for_url(ui_server.ui(f"/blocks/s3-bucket/{bucket}"))
    loaded = S3Bucket.load(bucket, registry=ui_server.registry)
    assert loaded.credentials.block_ref == f"aws-credentials/{creds}"
    assert SECRET not in page.content()


def test_forms_need_the_api_capabilities(page: Any, ui_server: UiServer) -> None:
    creds = _saved_credentials(ui_server)
    token = ui_server.token("bucket-writer", {"blocks": {"s3-bucket/*": ["read", "write"]}})
    sign_in(page, ui_server, token)
    page.goto(ui_server.ui("/blocks/new?type=s3-bucket"))
    options = page.locator("select[name='credentials.$ref'] option").all_inner_texts()
    assert f"aws-credentials/{creds}" not in options  # a block it may not see is not offered
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    name = unique("forged")
    with _cookie_client(page, ui_server) as client:
        own = {"origin": ui_server.url}
        forged = client.post("/ui/blocks/new", headers=own, data={
            "csrf": csrf, "_type": "s3-bucket", "_name": name, "bucket_name": "acme-x",
            "credentials:member": "0", "credentials.$ref": f"aws-credentials/{creds}"})
        assert forged.status_code == 403
        assert "read-metadata" in forged.text and f"aws-credentials/{creds}" in forged.text
        with pytest.raises(BlockNotFound):
            ui_server.registry.summary(f"s3-bucket/{name}")
        other_type = client.post("/ui/blocks/new", headers=own, data={
            "csrf": csrf, "_type": "secret", "_name": name, "value": "x"})
        assert other_type.status_code == 403 and "'write'" in html.unescape(other_type.text)
        edit = client.get(f"/ui/blocks/aws-credentials/{creds}/edit")
        assert edit.status_code == 403
        copy = client.get(f"/ui/blocks/aws-credentials/{creds}/copy-as")
        assert copy.status_code == 403
        no_csrf = client.post("/ui/blocks/new", headers=own, data={
            "_type": "s3-bucket", "_name": name, "bucket_name": "acme-x"})
        assert no_csrf.status_code == 403
    with pytest.raises(BlockNotFound):
        ui_server.registry.summary(f"secret/{name}")
    denied = list(ui_server.registry.audit.ls(ref=f"s3-bucket/{name}", denied=True))
    assert [(e.action, e.actor.name, e.actor.via) for e in denied] == [
        ("create", "bucket-writer", "ui")], denied


def test_a_bad_name_and_a_taken_name_are_shown_at_the_name_field(
        page: Any, ui_server: UiServer) -> None:
    taken = _saved_credentials(ui_server)
    sign_in(page, ui_server, ui_server.admin)
    page.goto(ui_server.ui("/blocks/new?type=aws-credentials"))
    page.get_by_label("Block name").fill("Not A Name")
    page.get_by_role("button", name="Create AwsCredentials").click()
    assert "lowercase letters" in page.locator("#f-block-name-err").inner_text()
    page.get_by_label("Block name").fill(taken)
    page.get_by_label("Aws Access Key Id").fill("AKIAIOSFODNN7EXAMPLE")
    page.get_by_label("Aws Secret Access Key").fill("typed-secret-9")
    page.get_by_role("button", name="Create AwsCredentials").click()
    assert "exists" in page.locator("#f-block-name-err").inner_text()
    assert "typed-secret-9" not in page.content()  # a typed secret is not sent back
    assert "type them again" in page.locator("#form-errors").inner_text()
