"""The schema forms in a real browser: create an AwsCredentials and an S3Bucket that references
it entirely through forms, a field error at its field, an edit that keeps the stored secret, a
concurrent change refused, and the Python API loading what the pages saved. No page ever holds
a saved secret."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from playwright.sync_api import expect
from pydantic import Field

from blocks import AwsCredentials, Block, S3Bucket, SecretDict
from tests.ui.conftest import UiServer, sign_in, unique

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def _screenshot(page: Any, name: str) -> None:
    """Save a screenshot into docs/images for docs/web-ui-forms.md when
    ``BLOCKS_UI_SCREENSHOTS=1`` (as tests/ui/test_screenshots.py does); test runs leave the
    tree alone otherwise."""
    if os.environ.get("BLOCKS_UI_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parents[2] / "docs" / "images"
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _no_secret(page: Any, *secrets: str) -> None:
    html = page.content()
    for secret in secrets:
        assert secret not in html, f"a saved secret is in the HTML of {page.url}"


def _create_credentials(page: Any, server: UiServer, name: str) -> None:
    page.goto(server.ui("/blocks/new"))
    page.get_by_role("link", name="AwsCredentials").click()
    page.wait_for_url(server.ui("/blocks/new?type=aws-credentials"))
    page.get_by_label("Block name").fill(name)
    page.get_by_label("Aws Access Key Id").fill("AKIAIOSFODNN7EXAMPLE")
    page.get_by_label("Aws Secret Access Key").fill(SECRET)
    page.get_by_label("Region Name").fill("eu-west-1")
    page.get_by_role("button", name="Create AwsCredentials").click()
    page.wait_for_url(server.ui(f"/blocks/aws-credentials/{name}"))


def test_create_reference_edit_and_load_through_forms(page: Any, ui_server: UiServer) -> None:
    sign_in(page, ui_server, ui_server.admin)
    creds, bucket = unique("creds"), unique("lake")
    _create_credentials(page, ui_server, creds)
    _no_secret(page, SECRET)

    # The bucket: its credentials are a saved block picked from a list.
    page.goto(ui_server.ui("/blocks/new?type=s3-bucket"))
    page.get_by_label("Block name").fill(bucket)
    page.get_by_label("Bucket Name").fill("ab")
    page.get_by_label("Kind of Credentials").select_option(label="A saved block")
    picker = page.locator("select[name='credentials.$ref']")
    expect(picker).to_be_visible()
    picker.select_option(f"aws-credentials/{creds}")
    page.get_by_role("button", name="Create S3Bucket").click()

    # "ab" breaks every bucket rule: the error is at the field, the typed values are kept.
    error = page.locator("#f-bucket_name-err")
    assert "3-63 lowercase letters" in error.inner_text()
    field = page.get_by_label("Bucket Name")
    assert field.get_attribute("aria-invalid") == "true"
    assert "f-bucket_name-err" in (field.get_attribute("aria-describedby") or "")
    assert field.input_value() == "ab"
    field.scroll_into_view_if_needed()
    _screenshot(page, "ui-form-field-error")
    assert page.locator("select[name='credentials.$ref']").input_value() == \
        f"aws-credentials/{creds}"
    field.fill("acme-data-lake")
    page.get_by_role("button", name="Create S3Bucket").click()
    page.wait_for_url(ui_server.ui(f"/blocks/s3-bucket/{bucket}"))

    # Edit the credentials: the secret input is empty, and left empty it keeps the value.
    page.goto(ui_server.ui(f"/blocks/aws-credentials/{creds}/edit"))
    _no_secret(page, SECRET)
    secret_input = page.get_by_label("Aws Secret Access Key")
    assert secret_input.input_value() == ""
    assert "leave empty to keep it" in page.locator("#f-aws_secret_access_key-hint").inner_text()
    _screenshot(page, "ui-form-edit")
    page.get_by_label("Region Name").fill("us-east-2")
    page.get_by_role("button", name="Save a new version").click()
    page.wait_for_url(ui_server.ui(f"/blocks/aws-credentials/{creds}"))
    _no_secret(page, SECRET)

    # The Python API loads what the pages saved: the bucket's credentials are that block.
    loaded = S3Bucket.load(bucket, registry=ui_server.registry)
    assert loaded.bucket_name == "acme-data-lake"
    assert isinstance(loaded.credentials, AwsCredentials)
    assert loaded.credentials.block_ref == f"aws-credentials/{creds}"
    assert loaded.credentials.aws_secret_access_key is not None
    assert loaded.credentials.aws_secret_access_key.get_secret_value() == SECRET
    assert loaded.credentials.region_name == "us-east-2"
    assert ui_server.registry.summary(f"aws-credentials/{creds}").current_version == 2
    writes = sorted((e for e in ui_server.registry.audit.ls(ref=f"aws-credentials/{creds}")
                     if e.action == "write"), key=lambda e: e.seq)
    assert [(e.version, e.actor.name, e.actor.via, e.outcome) for e in writes] == [
        (1, "ui-admin", "ui", "allowed"), (2, "ui-admin", "ui", "allowed")], writes
    assert SECRET not in repr(writes)

    # The copy-as page: code for the bucket and its credentials, never the secret.
    page.goto(ui_server.ui(f"/blocks/aws-credentials/{creds}/copy-as"))
    _no_secret(page, SECRET)
    terraform = page.locator("#copy-terraform").inner_text()
    assert "var." in terraform and "sensitive = true" in terraform
    page.goto(ui_server.ui(f"/blocks/s3-bucket/{bucket}/copy-as"))
    assert f'AwsCredentials.load("{creds}")' in page.locator("#copy-python").inner_text()
    _screenshot(page, "ui-copy-as")


def test_edit_refuses_a_concurrent_change(page: Any, ui_server: UiServer) -> None:
    sign_in(page, ui_server, ui_server.admin)
    creds = unique("creds")
    _create_credentials(page, ui_server, creds)
    page.goto(ui_server.ui(f"/blocks/aws-credentials/{creds}/edit"))
    # Someone else saves a version while the form is open.
    other = AwsCredentials.load(creds, registry=ui_server.registry)
    other.region_name = "ap-south-1"
    other.save(creds, overwrite=True, registry=ui_server.registry)
    page.get_by_label("Region Name").fill("us-west-2")
    page.get_by_role("button", name="Save a new version").click()
    message = page.locator("#form-errors").inner_text()
    assert "changed while you were editing" in message and "version 2 is now current" in message
    assert page.get_by_label("Region Name").input_value() == "us-west-2"  # the edit is kept
    assert AwsCredentials.load(creds, registry=ui_server.registry).region_name == "ap-south-1"
    _no_secret(page, SECRET)


def test_union_members_and_rows_with_javascript(page: Any, ui_server: UiServer) -> None:
    """An embedded new credentials block (a union member) with rows added by "Add a row"."""
    sign_in(page, ui_server, ui_server.admin)
    bucket = unique("inline")
    page.goto(ui_server.ui("/blocks/new?type=s3-bucket"))
    page.get_by_label("Block name").fill(bucket)
    page.get_by_label("Bucket Name").fill("acme-inline")
    members = page.locator("#f-credentials > fieldset[data-member]")
    page.get_by_label("Kind of Credentials").select_option(
        label="A new MinIOCredentials, stored inside this block")
    expect(members.nth(2)).to_be_visible()
    expect(members.nth(1)).to_be_hidden()
    page.locator("#f-credentials-m2-minio_root_user").fill("admin")
    page.locator("#f-credentials-m2-minio_root_password").fill(SECRET)
    config = page.locator("#f-credentials-m2-aws_client_parameters-config")
    config.get_by_role("button", name="Add a row to Config").click()
    config.locator("input[name$='[2].key']").fill("connect_timeout")
    config.locator("textarea[name$='[2].value']").fill("5")
    page.get_by_role("button", name="Create S3Bucket").click()
    page.wait_for_url(ui_server.ui(f"/blocks/s3-bucket/{bucket}"))
    loaded = S3Bucket.load(bucket, registry=ui_server.registry)
    assert loaded.credentials.minio_root_user == "admin"  # type: ignore[union-attr]
    assert loaded.credentials.aws_client_parameters.config == {"connect_timeout": 5}
    page.goto(ui_server.ui(f"/blocks/s3-bucket/{bucket}/edit"))
    _no_secret(page, SECRET)


class HeaderProbe(Block):
    """A type with a dict of secrets."""

    block_type_slug = "ui-test-header-probe"
    headers: SecretDict = Field(default_factory=dict)


def test_renaming_a_dict_key_keeps_its_secret(page: Any, ui_server: UiServer) -> None:
    name = unique("headers")
    ui_server.registry.save(HeaderProbe(headers={"X-Api-Key": SECRET}), name)
    sign_in(page, ui_server, ui_server.admin)
    page.goto(ui_server.ui(f"/blocks/ui-test-header-probe/{name}/edit"))
    _no_secret(page, SECRET)
    page.locator("input[name='headers[0].key']").fill("X-Renamed")
    page.get_by_role("button", name="Save a new version").click()
    page.wait_for_url(ui_server.ui(f"/blocks/ui-test-header-probe/{name}"))
    loaded = HeaderProbe.load(name, registry=ui_server.registry)
    assert {k: v.get_secret_value() for k, v in loaded.headers.items()} == {"X-Renamed": SECRET}


class XssProbe(Block):
    """<img src=x onerror="window.__xss=1"> a type whose schema text is markup."""

    block_type_slug = "ui-test-xss-probe"
    note: str = Field(title="<b>Note</b>", description='<script>window.__xss=1</script>')
    mode: Literal["<i>a</i>", "b"] = "b"


def test_schema_text_and_values_are_shown_as_text(page: Any, ui_server: UiServer) -> None:
    markup = "<script>window.__xss=1</script>"
    ui_server.registry.save(XssProbe(note=markup, mode="<i>a</i>"), "probe")
    sign_in(page, ui_server, ui_server.admin)
    page.goto(ui_server.ui("/blocks/new"))
    expect(page.get_by_text('<img src=x onerror="window.__xss=1"> a type')).to_be_visible()
    for path in ("/blocks/new?type=ui-test-xss-probe", "/blocks/ui-test-xss-probe/probe/edit",
                 "/blocks/ui-test-xss-probe/probe/copy-as"):
        page.goto(ui_server.ui(path))
        assert page.evaluate("window.__xss") is None, path
    page.goto(ui_server.ui("/blocks/ui-test-xss-probe/probe/edit"))
    assert page.locator("#f-note-desc").inner_text() == markup
    assert page.get_by_label("<b>Note</b>").input_value() == markup
    assert page.locator("#f-mode option:checked").inner_text() == "<i>a</i>"
    page.goto(ui_server.ui("/blocks/ui-test-xss-probe/probe/copy-as"))
    assert f'note="{markup}"' in page.locator("#copy-python").inner_text()
