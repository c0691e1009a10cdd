"""SnowflakeCredentials and SnowflakeConnector: Prefect's rules, private keys, the connector."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from blocks import MissingExtraError, SnowflakeConnector, SnowflakeCredentials, ValidationError
from tests.types.keys import PASSPHRASE, ec_pem, expected_der, pem

BASE = {"account": "nh12345.us-east-2.aws", "user": "etl"}


def errors_of(**fields: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        SnowflakeCredentials(**{**BASE, **fields})
    return dict(info.value.errors)


# -- one auth method, consistent with the authenticator ------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"password": "pw"},
        {"private_key": pem()},
        {"authenticator": "snowflake_jwt", "private_key": pem()},
        {"authenticator": "externalbrowser"},
        {"authenticator": "okta_endpoint", "endpoint": "https://acme.okta.com", "password": "pw"},
        {"authenticator": "oauth", "token": "oauth-token"},
        {"authenticator": "username_password_mfa", "password": "pw"},
    ],
    ids=lambda f: f.get("authenticator", "snowflake") + "-" + "-".join(sorted(f)),
)
def test_each_authenticator_with_its_secret_is_accepted(fields: dict[str, Any]) -> None:
    SnowflakeCredentials(**BASE, **fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "password"),
        ({"authenticator": "snowflake_jwt"}, "private_key"),
        ({"authenticator": "snowflake_jwt", "password": "pw", "private_key": pem()}, "password"),
        ({"authenticator": "externalbrowser", "password": "pw"}, "password"),
        ({"authenticator": "oauth"}, "token"),
        ({"authenticator": "oauth", "token": "t", "password": "pw"}, "password"),
        ({"authenticator": "okta_endpoint", "password": "pw"}, "endpoint"),
        ({"authenticator": "okta_endpoint", "endpoint": "https://acme.okta.com"}, "password"),
        ({"authenticator": "username_password_mfa", "private_key": pem()}, "private_key"),
        ({"password": "pw", "token": "t"}, "token"),
        ({"password": "pw", "endpoint": "https://acme.okta.com"}, "endpoint"),
        ({"password": "pw", "private_key": pem()}, "password"),
        ({"authenticator": "okta_endpoint", "password": "pw", "endpoint": "http://x"},
         "endpoint"),
        ({"authenticator": "ldap", "password": "pw"}, "authenticator"),
        ({"account": "acme.snowflakecomputing.com", "password": "pw"}, "account"),
        ({"user": None, "password": "pw"}, "user"),
    ],
)
def test_inconsistent_auth_names_the_field(fields: dict[str, Any], field: str) -> None:
    assert field in errors_of(**fields)


def test_private_key_and_key_path_are_exclusive(tmp_path: Path) -> None:
    assert "private_key_path" in errors_of(private_key=pem(), private_key_path=tmp_path / "k")


def test_passphrase_needs_a_key() -> None:
    assert "private_key_passphrase" in errors_of(password="pw", private_key_passphrase="x")


def test_errors_never_show_secret_values() -> None:
    with pytest.raises(ValidationError) as info:
        SnowflakeCredentials(**BASE, password="pw-never-shown", token="tok-never-shown",
                             private_key=pem(passphrase=PASSPHRASE),
                             private_key_passphrase="wrong-never-shown")
    text = str(info.value)
    for secret in ("pw-never-shown", "tok-never-shown", "wrong-never-shown"):
        assert secret not in text
    assert pem(passphrase=PASSPHRASE).decode().splitlines()[2] not in text


# -- private keys ---------------------------------------------------------------------------------


def test_private_key_resolves_to_pkcs8_der() -> None:
    creds = SnowflakeCredentials(**BASE, authenticator="snowflake_jwt", private_key=pem())
    assert creds.resolve_private_key() == expected_der()


@pytest.mark.parametrize("traditional", [False, True], ids=["pkcs8", "traditional-openssl"])
def test_passphrase_protected_key_decrypts(traditional: bool) -> None:
    creds = SnowflakeCredentials(
        **BASE, authenticator="snowflake_jwt",
        private_key=pem(passphrase=PASSPHRASE, traditional=traditional),
        private_key_passphrase=PASSPHRASE,
    )
    assert creds.resolve_private_key() == expected_der()


def test_encrypted_key_without_passphrase_is_refused() -> None:
    errors = errors_of(authenticator="snowflake_jwt", private_key=pem(passphrase=PASSPHRASE))
    assert "encrypted" in errors["private_key_passphrase"]


def test_wrong_passphrase_is_refused() -> None:
    errors = errors_of(authenticator="snowflake_jwt", private_key=pem(passphrase=PASSPHRASE),
                       private_key_passphrase="wrong")
    assert "does not decrypt" in errors["private_key_passphrase"]


def test_passphrase_for_an_unencrypted_key_is_refused() -> None:
    errors = errors_of(authenticator="snowflake_jwt", private_key=pem(),
                       private_key_passphrase=PASSPHRASE)
    assert "not encrypted" in errors["private_key_passphrase"]


@pytest.mark.parametrize(
    "bad",
    [b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
     b"\xff\xfe"],
    ids=["text", "truncated", "binary"],
)
def test_invalid_pem_is_refused(bad: bytes) -> None:
    assert "private_key" in errors_of(authenticator="snowflake_jwt", private_key=bad)


def test_non_rsa_key_is_refused() -> None:
    errors = errors_of(authenticator="snowflake_jwt", private_key=ec_pem())
    assert "RSA" in errors["private_key"]


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda p: p, id="bytes"),
        pytest.param(lambda p: p.decode(), id="pem-text"),
        pytest.param(lambda p: base64.b64encode(p).decode(), id="base64-as-in-json"),
        pytest.param(lambda p: p.decode().replace("\n", " "), id="newlines-lost-in-paste"),
    ],
)
def test_private_key_accepts_pem_in_common_forms(form: Any) -> None:
    creds = SnowflakeCredentials(**BASE, authenticator="snowflake_jwt", private_key=form(pem()))
    assert creds.resolve_private_key() == expected_der()


def test_private_key_path_is_read_when_connecting(tmp_path: Path) -> None:
    key_file = tmp_path / "rsa_key.p8"
    key_file.write_bytes(pem(passphrase=PASSPHRASE))
    creds = SnowflakeCredentials(**BASE, authenticator="snowflake_jwt",
                                 private_key_path=key_file, private_key_passphrase=PASSPHRASE)
    assert creds.resolve_private_key() == expected_der()
    key_file.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="private_key_path"):
        creds.resolve_private_key()


def test_der_key_loads_back_to_the_same_key() -> None:
    creds = SnowflakeCredentials(**BASE, private_key=pem())
    der = creds.resolve_private_key()
    assert der is not None
    loaded = serialization.load_der_private_key(der, password=None)
    assert loaded.public_key().public_numbers() == (  # type: ignore[union-attr]
        serialization.load_pem_private_key(pem(), None).public_key().public_numbers())  # type: ignore[union-attr]


# -- connector arguments --------------------------------------------------------------------------


def test_connect_params_for_key_pair() -> None:
    creds = SnowflakeCredentials(**BASE, private_key=pem(), role="loader", autocommit=False)
    params = creds.connect_params(database="raw")
    assert params["authenticator"] == "SNOWFLAKE_JWT"
    assert params["private_key"] == expected_der()
    assert (params["role"], params["autocommit"], params["database"]) == ("loader", False, "raw")
    assert "password" not in params


def test_connect_params_for_okta_use_the_endpoint() -> None:
    creds = SnowflakeCredentials(**BASE, authenticator="okta_endpoint",
                                 endpoint="https://acme.okta.com", password="pw")
    params = creds.connect_params()
    assert (params["authenticator"], params["password"]) == ("https://acme.okta.com", "pw")


def test_connect_params_for_oauth_carry_the_token() -> None:
    creds = SnowflakeCredentials(**BASE, authenticator="oauth", token="oauth-tok")
    assert creds.connect_params()["token"] == "oauth-tok"
    assert creds.connect_params()["authenticator"] == "OAUTH"


# -- connector block ------------------------------------------------------------------------------


def connector(**fields: Any) -> SnowflakeConnector:
    return SnowflakeConnector(credentials={**BASE, "password": "pw"}, database="raw",
                              warehouse="load_wh", **fields)


def test_schema_field_accepts_both_names() -> None:
    assert connector(schema="public").schema_ == "public"
    assert connector(schema_="public").schema_ == "public"
    assert "schema" in SnowflakeConnector.model_json_schema()["properties"]


def test_connector_required_fields_are_named() -> None:
    with pytest.raises(ValidationError) as info:
        SnowflakeConnector(credentials={**BASE, "password": "pw"})
    assert {"database", "warehouse", "schema"} <= {p for p, _ in info.value.errors}


@pytest.mark.parametrize("field", ["fetch_size", "poll_frequency_s"])
def test_connector_counts_must_be_positive(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        connector(schema="s", **{field: 0})
    assert [p for p, _ in info.value.errors] == [field]


def test_connector_credential_errors_name_the_nested_field() -> None:
    with pytest.raises(ValidationError) as info:
        SnowflakeConnector(credentials={**BASE, "authenticator": "oauth"}, database="d",
                           warehouse="w", schema="s")
    assert "credentials.token" in {p for p, _ in info.value.errors}


def test_get_connection_without_the_connector_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes the import fail even where the connector is installed.
    monkeypatch.setitem(sys.modules, "snowflake", None)
    monkeypatch.setitem(sys.modules, "snowflake.connector", None)
    with pytest.raises(MissingExtraError) as info:
        connector(schema="s").get_connection()
    assert info.value.extra == "snowflake"
    assert "blocks-registry[snowflake]" in str(info.value)
    assert "snowflake-connector-python" in str(info.value)
    with pytest.raises(MissingExtraError):
        SnowflakeCredentials(**BASE, password="pw").get_client()
