"""The block pages in a real browser: list, block page, reveal, capabilities, forged posts,
HTML in user data shown as text, history, diff, rollback (and its conflict), rename, delete."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from blocks import catalog
from tests.ui.conftest import UiServer, sign_in, unique

AwsCredentials = catalog.get("aws-credentials")
S3Bucket = catalog.get("s3-bucket")
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def _creds(key: str = "AKIAEXAMPLE", secret: str = "wJalr-secret-1") -> Any:
    return AwsCredentials(aws_access_key_id=key, aws_secret_access_key=secret,
                          region_name="eu-west-1")


def _audit(server: UiServer, ref: str, **filters: Any) -> list[Any]:
    return list(server.registry.audit.ls(ref=ref, **filters))


def _page_client(page: Any, server: UiServer) -> httpx.Client:
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    return httpx.Client(base_url=server.url, cookies=jar, follow_redirects=False,
                        headers={"origin": server.url})


def test_the_list_shows_blocks_by_type_with_counts_and_search(
        page: Any, ui_server: UiServer) -> None:
    prefix = unique("list")
    for i in range(3):
        ui_server.registry.save(_creds(), f"{prefix}-{i}")
    ui_server.registry.save(S3Bucket(bucket_name="data-lake", credentials=_creds()),
                            f"{prefix}-bucket")
    sign_in(page, ui_server, ui_server.admin)
    page.get_by_label("Search names").fill(prefix)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#blocks-table tbody tr")
    assert rows.count() == 4
    expect(page.get_by_role("link", name=re.compile(r"aws-credentials \(\d+\)"))).to_be_visible()
    page.get_by_label("Type", exact=True).select_option("s3-bucket")
    page.get_by_role("button", name="Search").click()
    assert rows.count() == 1
    page.get_by_role("link", name=f"{prefix}-bucket").click()
    expect(page.get_by_role("heading", name=f"{prefix}-bucket")).to_be_visible()


def test_reveal_needs_read_and_hides_again(page: Any, ui_server: UiServer) -> None:
    name = unique("reveal")
    ui_server.registry.save(_creds(secret="wJalr-reveal-me"), name)
    token = ui_server.token(unique("reader"), {"blocks": {"aws-credentials/*": ["read"]}})
    page.clock.install()
    sign_in(page, ui_server, token, after=f"/blocks/aws-credentials/{name}")
    assert "wJalr-reveal-me" not in page.content()
    row = page.locator("#fields tr", has_text="aws_secret_access_key")
    assert row.locator(".secret").inner_text() == "********"
    expect(page.locator("#fields").get_by_text("AKIAEXAMPLE")).to_be_visible()
    assert page.locator("#edit-link").count() == 0  # read only: no edit
    row.get_by_role("button", name=re.compile("Reveal")).click()
    page.wait_for_function("document.querySelector('.secret.revealed') !== null")
    assert row.locator(".secret").inner_text() == "wJalr-reveal-me"
    page.clock.fast_forward(11_000)
    page.wait_for_function("document.querySelector('.secret.revealed') === null")
    assert row.locator(".secret").inner_text() == "********"
    entries = _audit(ui_server, f"aws-credentials/{name}", action="reveal")
    assert [(e.actor.via, e.outcome, e.detail.get("field")) for e in entries] == [
        ("ui", "allowed", "aws_secret_access_key")]
    assert entries[0].actor.kind == "token" and "wJalr" not in repr(entries)


def test_read_metadata_sees_no_values_no_reveal_no_edit_and_forged_posts_fail(
        page: Any, ui_server: UiServer) -> None:
    name = unique("meta")
    ui_server.registry.save(_creds(secret="wJalr-never-shown"), name)
    ui_server.registry.save(_creds(secret="wJalr-never-shown-2"), name, overwrite=True)
    token = ui_server.token(unique("meta"), {"blocks": {"*/*": ["read-metadata"]}})
    sign_in(page, ui_server, token, after=f"/blocks/aws-credentials/{name}")
    expect(page.locator("#no-read")).to_be_visible()
    assert page.locator("#history tbody tr").count() == 2
    for absent in ("#fields", "button.reveal", "#edit-link", "#rename-form", "#delete-form"):
        assert page.locator(absent).count() == 0, absent
    assert "wJalr" not in page.content()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    ref = f"/ui/blocks/aws-credentials/{name}"
    with _page_client(page, ui_server) as client:
        for action, data in (("reveal", {"field": "aws_secret_access_key"}),
                             ("rollback", {"version": "1", "expected_version": "2"}),
                             ("rename", {"new_name": "stolen", "expected_version": "2"}),
                             ("delete", {})):
            answer = client.post(f"{ref}/{action}", data={"csrf": csrf, **data})
            assert answer.status_code == 403, action
            assert "lacks the" in answer.text and "wJalr" not in answer.text
        diff = client.get(f"{ref}/diff?a=1&b=2")
        assert diff.status_code == 403
        no_csrf = client.post(f"{ref}/rollback", data={"version": "1"})
        assert no_csrf.status_code == 403
    assert ui_server.registry.summary(f"aws-credentials/{name}").current_version == 2
    denied = _audit(ui_server, f"aws-credentials/{name}", denied=True)
    refused = {(e.action, e.error) for e in denied}
    assert {("reveal", "Forbidden"), ("rollback", "Forbidden"), ("rename", "Forbidden"),
            ("delete", "Forbidden"), ("ui-get", "Forbidden"),
            ("ui-post", "CsrfRefused")} <= refused, refused
    assert all(e.actor.via == "ui" and e.outcome == "denied" for e in denied)
    assert len(denied) == 6  # each refusal once


def test_html_in_user_data_is_shown_as_text(page: Any, ui_server: UiServer) -> None:
    name = unique("xss")
    bucket = S3Bucket(bucket_name="data-lake", bucket_folder=XSS, credentials=_creds())
    ui_server.registry.save(bucket, name, note=XSS)
    sign_in(page, ui_server, ui_server.admin, after=f"/blocks/s3-bucket/{name}")
    page.wait_for_load_state("load")  # the injected <img onerror> would have run by now
    assert page.evaluate("window.__pwned") is None
    expect(page.locator("#fields").get_by_text(XSS)).to_be_visible()
    assert page.locator("#history td.note").first.inner_text() == XSS
    page.goto(ui_server.ui("/blocks/s3-bucket/%3Cscript%3Ewindow.__pwned=3%3C%2Fscript%3E"))
    expect(page.locator("#error-message")).to_be_visible()
    page.goto(ui_server.ui("/blocks?q=" + "%3Cscript%3Ewindow.__pwned%3D4%3C%2Fscript%3E"))
    assert page.evaluate("window.__pwned") is None


def test_history_diff_and_rollback_then_a_conflict(page: Any, ui_server: UiServer) -> None:
    name = unique("hist")
    ref = f"aws-credentials/{name}"
    ui_server.registry.save(_creds(key="AKIAONE", secret="wJalr-v1"), name)
    ui_server.registry.save(_creds(key="AKIATWO", secret="wJalr-v2"), name, overwrite=True,
                            note="second")
    sign_in(page, ui_server, ui_server.admin, after=f"/blocks/{ref}")
    page.get_by_role("button", name="Show the diff").click()  # 1 -> 2 by default
    table = page.locator("#diff-table")
    secret_row = table.locator("tr", has_text="aws_secret_access_key")
    assert secret_row.inner_text().count("********") == 2 and "changed" in secret_row.inner_text()
    assert "AKIAONE" in table.inner_text() and "AKIATWO" in table.inner_text()
    assert "wJalr" not in page.content()
    region = table.locator("tr", has_text="region_name")
    assert "changed" not in region.inner_text()

    page.goto(ui_server.ui(f"/blocks/{ref}"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Roll back to version 1").click()
    expect(page.get_by_text("rolled back")).to_be_visible()
    assert page.locator("#current-version").inner_text() == "3"
    who = {row.locator("td").nth(0).inner_text().split()[0]:
           (row.locator("td").nth(2).inner_text(), row.locator("td").nth(3).inner_text())
           for row in page.locator("#history tbody tr").all()}
    assert who["3"] == ("ui-admin", "ui") and who["1"][1] == "python"
    assert ui_server.registry.load(ref).aws_access_key_id == "AKIAONE"

    # The Python API saves while the page shows version 3: the rollback is refused.
    ui_server.registry.save(_creds(key="AKIAFOUR"), name, overwrite=True)
    page.get_by_role("button", name="Roll back to version 2").click()
    message = page.locator("#error-message").inner_text()
    assert "changed since this page showed version 3" in message
    assert ui_server.registry.load(ref).aws_access_key_id == "AKIAFOUR"
    page.goto(ui_server.ui(f"/blocks/{ref}"))  # the page shows what the Python API saved
    assert page.locator("#current-version").inner_text() == "4"
    expect(page.locator("#fields").get_by_text("AKIAFOUR")).to_be_visible()


def test_references_rename_and_delete_refused_while_referenced(
        page: Any, ui_server: UiServer) -> None:
    creds, bucket = unique("creds"), unique("bucket")
    saved = _creds()
    ui_server.registry.save(saved, creds)
    ui_server.registry.save(S3Bucket(bucket_name="data-lake", credentials=saved), bucket)
    sign_in(page, ui_server, ui_server.admin, after=f"/blocks/s3-bucket/{bucket}")
    page.locator("#refs-out").get_by_role("link", name=f"aws-credentials/{creds}").click()
    page.locator("#refs-in").get_by_role("link", name=f"s3-bucket/{bucket}").wait_for()
    expect(page.locator("#delete-blocked")).to_be_visible()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Still referenced")).to_be_visible()
    expect(page.get_by_text(f"s3-bucket/{bucket}").first).to_be_visible()
    page.goto(ui_server.ui(f"/blocks/aws-credentials/{creds}"))
    page.get_by_label("New name").fill(f"{creds}-renamed")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_url(ui_server.ui(f"/blocks/aws-credentials/{creds}-renamed"))
    page.goto(ui_server.ui(f"/blocks/s3-bucket/{bucket}"))
    expect(page.locator("#refs-out").get_by_text(f"{creds}-renamed")).to_be_visible()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(ui_server.ui("/blocks") + "*")
    expect(page.get_by_text(f"deleted s3-bucket/{bucket}")).to_be_visible()
    with pytest.raises(Exception, match="no block"):
        ui_server.registry.summary(f"s3-bucket/{bucket}")


def test_a_referenced_block_the_token_may_not_see_is_not_named(
        page: Any, ui_server: UiServer) -> None:
    creds, bucket = unique("hidden-creds"), unique("seen-bucket")
    saved = _creds(secret="wJalr-nested")
    ui_server.registry.save(saved, creds)
    ui_server.registry.save(S3Bucket(bucket_name="data-lake", credentials=saved), bucket)
    token = ui_server.token(unique("buckets"), {"blocks": {"s3-bucket/*": ["read"]}})
    sign_in(page, ui_server, token, after=f"/blocks/s3-bucket/{bucket}")
    expect(page.locator("#fields").get_by_text("data-lake")).to_be_visible()
    expect(page.locator("#fields").get_by_text("a block you may not see")).to_be_visible()
    assert creds not in page.content() and "wJalr" not in page.content()
    page.goto(ui_server.ui(f"/blocks/aws-credentials/{creds}"))
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def _ui_stale_type(with_required_field: bool) -> type[Any]:
    """The same block type (same qualified name, so it replaces itself in the catalog),
    before and after a required field was added."""
    from blocks import Block

    class UiStaleThing(Block):
        label: str
        if with_required_field:
            added: int

    return UiStaleThing


@pytest.mark.filterwarnings("ignore::blocks._lenient.BlockSchemaWarning")
def test_a_version_that_no_longer_fits_its_type_is_shown_as_stored(
        page: Any, ui_server: UiServer) -> None:
    name = unique("stale")
    old = _ui_stale_type(False)
    slug = old.block_type_slug
    ui_server.registry.save(old(label="as saved"), name)
    _ui_stale_type(True)
    try:
        sign_in(page, ui_server, ui_server.admin, after=f"/blocks/{slug}/{name}")
        expect(page.locator("#stale")).to_be_visible()
        expect(page.locator("#fields").get_by_text("as saved")).to_be_visible()
    finally:  # leave no block of a test-only type behind for the module's other tests
        ui_server.registry.delete(f"{slug}/{name}", recovery_window="0")
        catalog._registered.pop(slug, None)
