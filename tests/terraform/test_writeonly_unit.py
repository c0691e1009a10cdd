"""The rules of write-only twins and secret sources, without Terraform."""

from __future__ import annotations

from typing import Any

import pytest
from tf.types import Unknown
from tf.utils import Diagnostics

from blocks_terraform import writeonly
from blocks_terraform.protocol import check_write_only_allowed, without_write_only

FIELDS = [
    {"name": "password", "sensitive": True},
    {"name": "host", "sensitive": False},
]


def _errors(config: dict[str, Any]) -> list[str]:
    diags = Diagnostics()
    writeonly.validate(diags, FIELDS, config)
    return [d.summary for d in diags.diagnostics]


@pytest.mark.parametrize("config, error", [
    ({"password": "a", "password_wo": "b", "password_wo_version": 1},
     "Conflicting password and password_wo"),
    ({"password_wo": "b", "password_from_secret": "secret/x", "password_wo_version": 1},
     "Conflicting password_wo and password_from_secret"),
    ({"password_wo": "b"}, "Missing password_wo_version"),
    ({"password_from_secret": "secret/x"}, "Missing password_wo_version"),
    ({"password_wo_version": 1}, "password_wo_version without password_wo"),
    ({"password": "a", "password_wo_version": 1}, "password_wo_version without password_wo"),
    ({"password_from_secret": "aws-credentials/x", "password_wo_version": 1},
     "Invalid password_from_secret"),
])
def test_bad_combinations_are_refused_naming_the_attribute(
    config: dict[str, Any], error: str
) -> None:
    assert error in _errors(config)


@pytest.mark.parametrize("config", [
    {},
    {"password": "a"},
    {"password_wo": "b", "password_wo_version": 1},
    {"password_wo": Unknown, "password_wo_version": Unknown},
    {"password_from_secret": Unknown, "password_wo_version": Unknown},
    {"password_from_secret": "secret/db", "password_wo_version": 3},
])
def test_good_combinations_pass(config: dict[str, Any]) -> None:
    assert _errors(config) == []


def test_plan_writes_only_on_create_version_change_or_drift() -> None:
    prior = {"password_wo_version": 1, "version": 4, writeonly.FINGERPRINT: "hmac-sha256:a"}
    same = {**prior}
    writeonly.plan(FIELDS, prior, same)
    assert same["version"] == 4 and same[writeonly.FINGERPRINT] == "hmac-sha256:a"
    bumped = {**prior, "password_wo_version": 2}
    writeonly.plan(FIELDS, prior, bumped)
    assert bumped["version"] is Unknown and bumped[writeonly.FINGERPRINT] is Unknown
    drifted_prior = {**prior, writeonly.FINGERPRINT: writeonly.DRIFTED}
    after_drift = {**drifted_prior}
    writeonly.plan(FIELDS, drifted_prior, after_drift)
    assert after_drift["version"] is Unknown
    plain = {"password": "a", "version": 4, writeonly.FINGERPRINT: None}
    writeonly.plan(FIELDS, plain, plain)
    assert plain[writeonly.FINGERPRINT] is None and plain["version"] == 4


def test_finish_nulls_managed_fields_and_flags_drift() -> None:
    def fingerprint(value: Any) -> str:
        return f"fp:{sorted(value.items())}"

    state = {"password": "stored", "password_wo_version": 1, "host": "h"}
    saved = writeonly.finish(FIELDS, state, fingerprint)
    assert saved["password"] is None and saved["host"] == "h"
    assert saved[writeonly.FINGERPRINT] == fingerprint({"password": "stored"})
    same = writeonly.finish(FIELDS, state, fingerprint, previous=saved)
    assert same[writeonly.FINGERPRINT] == saved[writeonly.FINGERPRINT]
    changed = writeonly.finish(FIELDS, {**state, "password": "other"}, fingerprint,
                               previous=saved)
    assert changed[writeonly.FINGERPRINT] == writeonly.DRIFTED
    assert "other" not in repr(changed)
    unmanaged = writeonly.finish(FIELDS, {"password": "p", "host": "h"}, fingerprint)
    assert unmanaged["password"] == "p" and unmanaged[writeonly.FINGERPRINT] is None


def test_write_only_values_are_refused_without_the_client_capability() -> None:
    diags = Diagnostics()
    check_write_only_allowed(diags, ["password_wo"], {"password_wo": "s3cr3t"}, allowed=False)
    (error,) = diags.diagnostics
    assert error.summary == "password_wo needs Terraform >= 1.11"
    assert "s3cr3t" not in error.summary + (error.detail or "")
    ok = Diagnostics()
    check_write_only_allowed(ok, ["password_wo"], {"password_wo": "s3cr3t"}, allowed=True)
    check_write_only_allowed(ok, ["password_wo"], {"password_wo": None}, allowed=False)
    assert not ok.diagnostics
    assert without_write_only(["password_wo"], {"password_wo": "x", "a": 1}) == {
        "password_wo": None, "a": 1}
