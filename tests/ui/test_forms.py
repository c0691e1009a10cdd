"""Schema -> form fields -> posted form -> JSON document, for every built-in type and a plug-in.

Each type's sample document is drawn as a form, "posted" the way a browser posts it (the chosen
union member only, checked boxes only, the secrets typed into their password inputs), parsed
back, and must build the same block. Secrets are never drawn; left empty on an edit they keep
the stored value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, SecretBytes, SecretStr

from blocks import Block, SecretDict, catalog
from blocks.catalog import BUILTIN_TYPES
from blocks.codec import to_display
from blocks.server.ui.forms import type_form
from blocks.server.ui.forms_parse import parse
from blocks.server.ui.forms_render import Field as Drawn
from blocks.server.ui.forms_render import Form, masked_paths, render

SF_CREDS = {"account": "nh12345.us-east-2.aws", "user": "etl", "password": "sf-pass-1",
            "authenticator": "snowflake", "autocommit": True}
SAMPLES: dict[str, dict[str, Any]] = {
    "secret": {"value": "tok-secret-1"},
    "aws-credentials": {
        "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "aws-secret-1",
        "region_name": "eu-west-1", "role_arn": "arn:aws:iam::123456789012:role/etl",
        "assume_role_kwargs": {"DurationSeconds": 3600, "Tags": [{"Key": "a", "Value": "b"}]},
        "aws_client_parameters": {"endpoint_url": "http://127.0.0.1:9000", "use_ssl": False,
                                  "verify": False, "config": {"retries": {"max_attempts": 5}}},
    },
    "minio-credentials": {"minio_root_user": "admin", "minio_root_password": "minio-secret-1",
                          "aws_client_parameters": {"endpoint_url": "http://minio:9000"}},
    "s3-bucket": {"bucket_name": "acme-lake", "bucket_folder": "raw/in",
                  "credentials": {"minio_root_user": "admin",
                                  "minio_root_password": "minio-secret-2"}},
    "snowflake-credentials": SF_CREDS,
    "snowflake-connector": {"credentials": SF_CREDS, "database": "db", "warehouse": "wh",
                            "schema": "public", "fetch_size": 10},
    "github-credentials": {"token": "ghp-secret-1"},
    "github-repository": {"repository_url": "https://github.com/acme/flows.git",
                          "reference": "main", "credentials": {"token": "ghp-secret-2"}},
    "database-credentials": {"driver": "postgresql+psycopg", "username": "etl",
                             "password": "db-secret-1", "host": "db", "port": 5432,
                             "database": "app", "query": {"sslmode": "require"}},
    "sqlalchemy-connector": {
        "connection_info": {"driver": "postgresql+psycopg", "database": "app",
                            "username": "etl", "password": "db-secret-2", "host": "db",
                            "port": 5432},
        "connect_args": {"connect_timeout": 10}, "fetch_size": 5},
    "async-sqlalchemy-connector": {
        "connection_info": "postgresql+asyncpg://etl:db-secret-3@db/app"},
}


class Rule(BaseModel):
    port: int = Field(description="Port.")
    note: str | None = None


class AcmeProbe(Block):
    """A plug-in type with every kind of field a form draws."""

    block_type_slug = "ui-test-acme-probe"
    url: str = Field(description="Endpoint.")
    mode: Literal["fast", "safe"] = Field(default="safe", description="How to probe.")
    ratio: float = 0.5
    retries: int | None = None
    enabled: bool = True
    strict: bool | None = None
    tags: list[str] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    limits: dict[str, int] = Field(default_factory=dict)
    token: SecretStr
    headers: SecretDict = Field(default_factory=dict)


SAMPLES["ui-test-acme-probe"] = {
    "url": "https://probe.example", "mode": "fast", "ratio": 0.25, "retries": 3,
    "enabled": False, "strict": True, "tags": ["a", "b c", "d"],
    "rules": [{"port": 443, "note": "tls"}, {"port": 80}], "limits": {"rps": 10, "burst": 20},
    "token": "probe-secret-1", "headers": {"X-Api-Key": "probe-secret-2"},
}
TYPES = [*sorted(BUILTIN_TYPES), "ui-test-acme-probe"]


def _secret_texts(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _secret_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_texts(item)
    elif isinstance(value, str) and "secret" in value:
        yield value


def _at(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def walk(fields: list[Drawn]) -> Iterator[Drawn]:
    """Every drawn field, the members not chosen and the row templates included."""
    stack = list(fields)
    while stack:
        field = stack.pop()
        yield field
        stack += field.children + field.members
        if field.row_template is not None:
            stack.append(field.row_template)


def post(form: Form, secrets: Mapping[str, Any]) -> dict[str, str]:
    """What a browser posts for ``form``, each password input given ``secrets[path]``."""
    out: dict[str, str] = {}

    def visit(field: Drawn) -> None:
        if field.widget in ("object", "pair", "list", "dict"):
            for child in field.children:  # the row template is not posted
                if child.origin:
                    out[f"{child.name}:from"] = child.origin
                visit(child)
        elif field.widget == "union":
            chosen = next((o.value for o in field.options if o.selected), field.options[0].value)
            out[f"{field.name}:member"] = chosen
            if chosen != "":
                visit(field.members[int(chosen)])
        elif field.widget == "checkbox":
            if field.checked:
                out[field.name] = "true"
        elif field.widget == "select":
            out[field.name] = next((o.value for o in field.options if o.selected), "")
        elif field.input_type == "password":
            value = secrets.get(field.path)
            if isinstance(value, str):
                out[field.name] = value
        else:
            out[field.name] = field.value

    for field in form.fields:
        visit(field)
    return out


def _secrets_of(form: Form, document: Mapping[str, Any]) -> dict[str, Any]:
    found = {}
    for field in walk(form.fields):
        if field.input_type == "password" and "~" not in field.path:
            try:
                found[field.path] = _at(document, field.path)
            except (KeyError, IndexError, TypeError):
                continue
    return found


@pytest.mark.parametrize("slug", TYPES)
def test_sample_survives_form_round_trip(slug: str) -> None:
    cls = catalog.get(slug)
    sample = cls.model_validate(SAMPLES[slug])
    form = type_form(cls)
    drawn = render(form.root, to_display(sample), stored=masked_paths(to_display(sample)))
    html_values = [f.value for f in walk(drawn.fields)] + [
        o.value for f in walk(drawn.fields) for o in f.options]
    for secret in _secret_texts(SAMPLES[slug]):
        assert not any(secret in v for v in html_values), f"{slug}: a secret was drawn"
    posted = post(drawn, _secrets_of(drawn, SAMPLES[slug]))
    parsed = parse(form.root, posted)
    assert parsed.errors == {}
    assert cls.model_validate(parsed.document) == sample


@pytest.mark.parametrize("slug", TYPES)
def test_every_field_has_a_label_and_unique_id(slug: str) -> None:
    cls = catalog.get(slug)
    drawn = render(type_form(cls).root, None)
    ids = [f.id for f in walk(drawn.fields) if f.widget not in ("pair",)]
    assert len(ids) == len(set(ids)), f"{slug}: duplicate ids"
    for field in walk(drawn.fields):
        assert field.label, f"{slug}: {field.name} has no label"
    tops = {f.name for f in drawn.fields}
    assert tops == set(cls.model_json_schema()["properties"])


@pytest.mark.parametrize("slug", TYPES)
def test_edit_keeps_every_stored_secret_left_empty(slug: str) -> None:
    cls = catalog.get(slug)
    sample = cls.model_validate(SAMPLES[slug])
    form = type_form(cls)
    shown = to_display(sample)
    drawn = render(form.root, shown, stored=masked_paths(shown))
    parsed = parse(form.root, post(drawn, {}), to_display(sample, show_secrets=True))
    assert parsed.errors == {}
    assert cls.model_validate(parsed.document) == sample
    assert set(parsed.kept) == masked_paths(shown)


def test_a_cleared_secret_is_unset_and_a_new_one_replaces_it() -> None:
    form = type_form(catalog.get("aws-credentials"))
    sample = catalog.get("aws-credentials").model_validate(SAMPLES["aws-credentials"])
    stored = to_display(sample, show_secrets=True)
    base = {"aws_access_key_id": "AKIA", "aws_client_parameters.use_ssl": "true"}
    cleared = parse(form.root, {**base, "aws_secret_access_key:clear": "true"}, stored)
    assert "aws_secret_access_key" not in cleared.document and cleared.kept == []
    new = parse(form.root, {**base, "aws_secret_access_key": "new-1"}, stored)
    assert new.document["aws_secret_access_key"] == "new-1"
    assert new.typed_secrets == ["aws_secret_access_key"]


def test_field_names_follow_the_json_path() -> None:
    drawn = render(type_form(AcmeProbe).root, to_display(AcmeProbe.model_validate(
        SAMPLES["ui-test-acme-probe"])))
    names = {f.name for f in walk(drawn.fields)}
    assert {"url", "tags[0]", "tags[2]", "rules[1].port", "limits[0].key", "limits[0].value",
            "headers[0].key", "headers[0].value"} <= names
    s3 = render(type_form(catalog.get("s3-bucket")).root, None)
    assert "credentials.aws_access_key_id" in {f.name for f in walk(s3.fields)}
    assert "credentials.$ref" in {f.name for f in walk(s3.fields)}


def test_empty_rows_are_dropped_and_inputs_typed_by_the_schema() -> None:
    form = type_form(AcmeProbe)
    parsed = parse(form.root, {
        "url": "https://x", "token": "t", "tags[0]": "", "tags[1]": "b", "tags[5]": "c",
        "rules[0].port": "", "rules[1].port": "8080", "limits[0].key": "rps",
        "limits[0].value": "7", "limits[1].key": "", "limits[1].value": "", "ratio": "2",
        "retries": "", "strict": "false", "mode": "fast"})
    assert parsed.errors == {}
    assert parsed.document == {
        "url": "https://x", "token": "t", "tags": ["b", "c"], "rules": [{"port": 8080}],
        "limits": {"rps": 7}, "ratio": 2, "strict": False, "mode": "fast", "enabled": False}


def test_unreadable_input_is_an_error_at_its_path_and_shown_again() -> None:
    form = type_form(AcmeProbe)
    parsed = parse(form.root, {"url": "u", "token": "t", "rules[0].port": "eighty",
                               "ratio": "half", "mode": "slow", "limits[0].key": "",
                               "limits[0].value": "3"})
    assert set(parsed.errors) == {"rules.0.port", "ratio", "mode", "limits.0"}
    drawn = render(form.root, parsed.document, errors=parsed.errors, raw=parsed.raw)
    by_path = {f.path: f for f in walk(drawn.fields)}
    assert by_path["ratio"].value == "half" and by_path["ratio"].errors
    assert by_path["mode"].errors == ["choose one of the listed values"]


def test_registry_errors_land_on_the_chosen_member_field() -> None:
    form = type_form(catalog.get("s3-bucket"))
    document = {"bucket_name": "ab", "credentials": {"minio_root_user": "u"}}
    drawn = render(form.root, document, errors={
        "bucket_name": ["too short"], "credentials.minio.minio_root_password": ["missing"],
        "nowhere.at.all": ["lost"]}, choices={"credentials": 2})
    by_id = {f.id: f for f in walk(drawn.fields)}
    assert by_id["f-bucket_name"].errors == ["too short"]
    assert by_id["f-credentials-m2-minio_root_password"].errors == ["missing"]
    assert by_id["f-credentials-m1-aws_secret_access_key"].errors == []
    assert drawn.general == ["nowhere.at.all: lost"]


def test_a_union_member_left_unset_is_left_out_and_a_saved_block_is_a_reference() -> None:
    form = type_form(catalog.get("s3-bucket"))
    unset = parse(form.root, {"bucket_name": "lake", "credentials:member": ""})
    assert unset.document == {"bucket_name": "lake"}
    picked = parse(form.root, {"bucket_name": "lake", "credentials:member": "0",
                               "credentials.$ref": "aws-credentials/etl"})
    assert picked.document["credentials"] == {"$ref": "aws-credentials/etl"}
    wrong = parse(form.root, {"bucket_name": "lake", "credentials:member": "0",
                              "credentials.$ref": "secret/etl"})
    assert "credentials" in wrong.errors
    drawn = render(form.root, picked.document, saved={"aws-credentials": ["etl", "ops"]})
    picker = next(f for f in walk(drawn.fields) if f.name == "credentials.$ref")
    assert [(o.value, o.selected) for o in picker.options] == [
        ("aws-credentials/etl", True), ("aws-credentials/ops", False)]


def test_a_json_secret_and_a_kept_bytes_secret() -> None:
    secret = type_form(catalog.get("secret"))
    as_text = parse(secret.root, {"value": '{"a": 1}'})
    assert as_text.document == {"value": '{"a": 1}'}  # a password is text unless ticked
    as_json = parse(secret.root, {"value": '{"a": 1}', "value:json": "true"})
    assert as_json.document == {"value": {"a": 1}}
    bad = parse(secret.root, {"value": "{", "value:json": "true"})
    assert list(bad.errors) == ["value"] and bad.raw == {}  # never shown again

    class BinaryKey(Block):
        block_type_slug = "ui-test-binary-key"
        key: bytes | None = None
        blob: SecretBytes

    stored = BinaryKey(blob=b"\x00\xffsecret-bytes")
    form = type_form(BinaryKey)
    kept = parse(form.root, {}, to_display(stored, show_secrets=True))
    assert kept.kept == ["blob"]
    assert BinaryKey.model_validate(kept.document) == stored


class Login(BaseModel):
    user: str
    password: SecretStr


class Logins(Block):
    block_type_slug = "ui-test-logins"
    logins: list[Login]


def test_removing_a_row_does_not_move_its_secret_to_the_next_one() -> None:
    stored = Logins(logins=[{"user": "a", "password": "pw-a"}, {"user": "b", "password": "pw-b"},
                            {"user": "c", "password": "pw-c"}])
    form = type_form(Logins)
    shown = to_display(stored)
    drawn = render(form.root, shown, stored=masked_paths(shown))
    posted = post(drawn, {})
    for key in [k for k in posted if k.startswith("logins[0]")]:
        del posted[key]  # the first row removed ("Remove this row")
    posted["logins[5].user"] = "d"  # a row added: no stored secret to keep
    parsed = parse(form.root, posted, to_display(stored, show_secrets=True))
    assert parsed.document["logins"][:2] == [{"user": "b", "password": "pw-b"},
                                             {"user": "c", "password": "pw-c"}]
    assert parsed.document["logins"][2] == {"user": "d"}
    assert parsed.origins == {"logins.0": "1", "logins.1": "2"}
    # Refused (row d has no password): drawn again, the rows still name their stored rows.
    again = render(form.root, parsed.document, origins=parsed.origins,
                   stored=masked_paths(shown))
    rows = next(f for f in again.fields if f.name == "logins").children
    assert [r.origin for r in rows] == ["1", "2", "", "", ""]
    posted = post(again, {})
    posted["logins[2].password"] = "pw-d"
    fixed = parse(form.root, posted, to_display(stored, show_secrets=True))
    assert Logins.model_validate(fixed.document) == Logins(logins=[
        {"user": "b", "password": "pw-b"}, {"user": "c", "password": "pw-c"},
        {"user": "d", "password": "pw-d"}])


def _edit_headers(headers: dict[str, str]) -> tuple[dict[str, Any], Form]:
    """An AcmeProbe with ``headers`` stored: its document (secrets in clear), its edit form."""
    block = AcmeProbe.model_validate({**SAMPLES["ui-test-acme-probe"], "headers": headers})
    shown = to_display(block)
    return (to_display(block, show_secrets=True),
            render(type_form(AcmeProbe).root, shown, stored=masked_paths(shown)))


def test_renaming_a_dict_key_keeps_its_stored_secret() -> None:
    stored, drawn = _edit_headers({"X-Api-Key": "probe-secret-a", "X-Other": "probe-secret-b"})
    form = type_form(AcmeProbe)
    posted = post(drawn, {})
    assert posted["headers[0]:from"] == "X-Api-Key"  # the row names its stored key
    posted["headers[0].key"] = "X-Renamed"
    posted["headers[1].key"], posted["headers[3].key"] = "X-Swapped", "X-Other"  # a key moved
    parsed = parse(form.root, posted, stored)
    # The renamed rows keep their secrets; a row added under a stored key has none to keep.
    assert parsed.document["headers"] == {"X-Renamed": "probe-secret-a",
                                          "X-Swapped": "probe-secret-b", "X-Other": None}
    assert parsed.errors == {"headers.X-Other": [
        "type this entry's secret value (only an entry already saved keeps its stored value "
        "when left empty)"]}
    assert {k: v for k, v in parsed.origins.items() if k.startswith("headers.")} == {
        "headers.X-Renamed": "X-Api-Key", "headers.X-Swapped": "X-Other"}
    assert set(parsed.stored) == {"token", "headers.X-Renamed", "headers.X-Swapped"}

    # Refused: drawn again, the renamed rows still name their stored keys and say so.
    again = render(form.root, parsed.document, errors=parsed.errors, origins=parsed.origins,
                   stored=frozenset(parsed.stored))
    rows = next(f for f in again.fields if f.name == "headers").children
    assert [(r.origin, r.children[1].stored) for r in rows] == [
        ("X-Api-Key", True), ("X-Other", True), ("", False), ("", False), ("", False)]
    assert rows[2].children[1].errors  # at the added row's value
    posted = post(again, {"headers.X-Other": "probe-secret-c"})
    fixed = parse(form.root, posted, stored)
    assert fixed.errors == {}
    assert fixed.document["headers"] == {
        "X-Renamed": "probe-secret-a", "X-Swapped": "probe-secret-b", "X-Other": "probe-secret-c"}


def test_a_dict_key_with_a_dot_keeps_its_stored_secret() -> None:
    stored, drawn = _edit_headers({"fs.s3a.secret.key": "probe-secret-d",
                                   "X-Api-Key": "probe-secret-e"})
    rows = next(f for f in drawn.fields if f.name == "headers").children
    assert [r.children[1].stored for r in rows[:2]] == [True, True]
    parsed = parse(type_form(AcmeProbe).root, post(drawn, {}), stored)
    assert parsed.errors == {}
    assert parsed.document["headers"] == {"fs.s3a.secret.key": "probe-secret-d",
                                          "X-Api-Key": "probe-secret-e"}
